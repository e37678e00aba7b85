"""The institution API, mounted under /api/v1/."""

from django.urls import path, re_path

from . import api

app_name = "education_api"

urlpatterns = [
    path("learner-tokens/exchange", api.learner_token_exchange, name="learner_token_exchange"),
    path("credit-batches", api.credit_batch_create, name="credit_batch_create"),
    path("credit-batches/<int:batch_id>", api.credit_batch_detail, name="credit_batch_detail"),
    path("openapi.json", api.openapi, name="openapi"),
    # Anything else under /api/v1/ (an id that is not a number, a typo) is a JSON 404 as well.
    re_path(r"^.*$", api.not_found, name="not_found"),
]
