from django.urls import path

from . import views

app_name = "education"

urlpatterns = [
    path("", views.menu, name="menu"),
    path("professional/", views.professional, name="professional"),
    path("remote/", views.remote, name="remote"),
    path("remote/enrol/", views.enrol, name="enrol"),
    path("enrolments/<int:enrolment_id>/launch/", views.launch, name="launch"),
    path("credits/", views.credits, name="credits"),
    path("credits/detail/", views.credit_detail, name="credit_detail"),
]
