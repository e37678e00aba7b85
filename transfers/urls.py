from django.urls import path

from . import views

app_name = "transfers"

urlpatterns = [
    path("", views.index, name="index"),
    path("out/", views.out_list, name="out_list"),
    path("out/new/", views.out_create, name="out_create"),
    path("out/<int:transfer_id>/withdraw/", views.out_withdraw, name="out_withdraw"),
    path("out/<int:transfer_id>/evidence/", views.out_evidence, name="out_evidence"),
    path("in/", views.in_verify, name="in_verify"),
    path("in/confirm/", views.in_confirm, name="in_confirm"),
    path("in/password/", views.in_password, name="in_password"),
    path("in/done/", views.in_done, name="in_done"),
]
