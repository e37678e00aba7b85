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
    path("credits/certificate/", views.certificate, name="certificate"),
    path("claims/new/", views.claim_create, name="claim_create"),
    path("claims/", views.claim_list, name="claim_list"),
    path("claims/<int:claim_id>/withdraw/", views.claim_withdraw, name="claim_withdraw"),
    path("claims/<int:claim_id>/evidence/", views.claim_evidence, name="claim_evidence"),
]
