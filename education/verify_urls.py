"""The public certificate verification URL (/verify/<code>), outside /education/: no login."""

from django.urls import path

from . import views

app_name = "verify"

urlpatterns = [
    path("<str:code>", views.certificate_verify, name="certificate"),
]
