"""Staff roles as Django groups, least privilege (created by a migration and by
`manage.py setup_roles`, both through `roles_setup`, which is idempotent).

- 审核员: reads the archives of their scope, reviews 学分确认申请 and transfers, exports.
- 查询员: reads archives and credits of their scope, exports.
- 系统管理员: users and staff units, TOTP devices, reference data, institutions.
- 审计员: reads the audit log, nothing else.

What a staff user sees inside a model is limited further by their management unit
(accounts/staff.py), whatever their role.
"""

from __future__ import annotations

from dataclasses import dataclass

REVIEWER = "审核员"
QUERIER = "查询员"
SYSADMIN = "系统管理员"
AUDITOR = "审计员"
ROLE_NAMES = (REVIEWER, QUERIER, SYSADMIN, AUDITOR)

ARCHIVE_MODELS = ("archive", "education", "professionalqualification", "highendtalent", "award")
CREDIT_READ_MODELS = ("credityeartotal", "creditrecord", "enrolment")
REFERENCE_MODELS = ("ethnicity", "politicalstatus", "educationlevel", "degree", "division", "historicaldivision")
EXPORTS = ("export_archives", "export_credit_compliance")
ALL = ("add", "change", "delete", "view")


@dataclass(frozen=True)
class Grant:
    app_label: str
    models: tuple[str, ...] | str  # "*" = every model of the app
    actions: tuple[str, ...]  # "view", "change", ... or full custom codenames
    custom: bool = False  # actions are complete codenames (custom permissions)


ROLES: dict[str, tuple[Grant, ...]] = {
    REVIEWER: (
        Grant("collection", ARCHIVE_MODELS, ("view",)),
        Grant("education", ("creditclaim",), ("view", "change")),
        Grant("education", CREDIT_READ_MODELS, ("view",)),
        Grant("changes", ("changerecord",), ("view",)),
        Grant("transfers", "*", ("view", "change")),
        Grant("accounts", ("staffprofile",), ("reveal_id_number", *EXPORTS), custom=True),
    ),
    QUERIER: (
        Grant("collection", ARCHIVE_MODELS, ("view",)),
        Grant("education", ("creditclaim", *CREDIT_READ_MODELS), ("view",)),
        Grant("changes", ("changerecord",), ("view",)),
        Grant("transfers", "*", ("view",)),
        Grant("accounts", ("staffprofile",), EXPORTS, custom=True),
    ),
    SYSADMIN: (
        Grant("accounts", ("user",), ("add", "change", "view")),
        Grant("accounts", ("staffprofile",), ALL),
        Grant("accounts", ("smsmessage",), ("view",)),
        Grant("auth", ("group",), ("view",)),
        Grant("otp_totp", ("totpdevice",), ALL),
        Grant("collection", REFERENCE_MODELS, ALL),
        Grant("education", ("institution", "institutionfiling", "institutionapikey"), ALL),
        Grant("education", ("creditbatch",), ("view",)),
    ),
    AUDITOR: (Grant("portal", ("auditentry",), ("view",)),),
}


def _codenames(grant: Grant, models_of_app: list[str]) -> list[tuple[str, str]]:
    """(model, codename) pairs; custom permissions all live on the first model named."""
    if grant.custom:
        return [(grant.models[0], action) for action in grant.actions]
    names = models_of_app if grant.models == "*" else list(grant.models)
    return [(model, f"{action}_{model}") for model in names for action in grant.actions]


def roles_setup(*, apps=None, ensure_permissions: bool = True) -> dict[str, int]:
    """Create or update the four groups with exactly their permissions; permissions of
    apps not installed (or not migrated yet) are skipped. Returns permissions per role."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    if ensure_permissions:
        _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    result = {}
    for role, grants in ROLES.items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = []
        for grant in grants:
            try:
                app_models = [m._meta.model_name for m in apps.get_app_config(grant.app_label).get_models()]
            except LookupError:
                continue
            for model, codename in _codenames(grant, app_models):
                perm = Permission.objects.filter(
                    content_type__app_label=grant.app_label, content_type__model=model, codename=codename
                ).first()
                if perm is not None:
                    wanted.append(perm.pk)
        group.permissions.set(wanted)
        result[role] = len(wanted)
    return result


def _ensure_permissions(apps) -> None:
    """Permissions are normally created after `migrate`; make sure they exist now
    (inside a migration too, with the historical models)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        had = getattr(app_config, "models_module", None)
        if had is None:
            app_config.models_module = True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = had
