from django.contrib import admin
from django.urls import include, path

from . import views

admin.site.site_header = "贵州省财政会计网 · 管理后台"
admin.site.site_title = "贵州省财政会计网"
admin.site.index_title = "业务管理"

urlpatterns = [
    path("", views.home, name="home"),
    path("ping", views.ping, name="ping"),
    path("accounts/", include("accounts.urls")),
    path("collection/", include("collection.urls")),
    path("changes/", include("changes.urls")),
    path("admin/", admin.site.urls),
    path("education/", include("education.urls")),
    path("transfers/", include("transfers.urls")),
    path("api/v1/", include("education.api_urls")),
    path("verify/", include("education.verify_urls")),
]
