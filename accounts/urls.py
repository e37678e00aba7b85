from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("register/", views.register_eligibility, name="register_eligibility"),
    path("register/not-needed/", views.register_not_needed, name="register_not_needed"),
    path("register/form/", views.register, name="register"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/new/", views.password_reset_set, name="password_reset_set"),
    path("sms-code/", views.sms_code_send, name="sms_code_send"),
    path("home/", views.home, name="home"),
]
