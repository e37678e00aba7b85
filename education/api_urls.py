"""The institution API, mounted under /api/v1/."""

from django.urls import path

from . import api

app_name = "education_api"

urlpatterns = [
    path("learner-tokens/exchange", api.learner_token_exchange, name="learner_token_exchange"),
]
