from django.urls import path

from . import views

app_name = "collection"

urlpatterns = [
    path("", views.start, name="start"),
    path("notice/", views.notice, name="notice"),
    path("personal/", views.personal, name="personal"),
    path("education/", views.education, name="education"),
    path("professional/", views.professional, name="professional"),
    path("work/", views.work, name="work"),
    path("review/", views.review, name="review"),
    path("status/", views.status, name="status"),
    path("files/<str:field>/", views.upload, name="upload"),
]
