from django.urls import path

from . import views

app_name = "changes"

urlpatterns = [
    path("", views.menu, name="menu"),
    path("history/", views.history, name="history"),
    path("<str:item>/", views.item, name="item"),
    path("<str:item>/edit/", views.edit, name="edit"),
]
