"""django.contrib.admin with portal.admin_site.PortalAdminSite (password + TOTP) as the
default `admin.site`; listed in INSTALLED_APPS instead of "django.contrib.admin"."""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "portal.admin_site.PortalAdminSite"
