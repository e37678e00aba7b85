"""The staff roles (审核员, 查询员, 系统管理员, 审计员) as groups; `manage.py setup_roles`
does the same again (e.g. after apps added later, such as transfers, are migrated)."""

from django.db import migrations


def create_roles(apps, schema_editor):
    from accounts.roles import roles_setup

    roles_setup(apps=apps)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_staffprofile"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("collection", "0001_initial"),
        ("changes", "0001_initial"),
        ("education", "0004_alter_creditclaim_user"),
        ("otp_totp", "0003_add_timestamps"),
        ("portal", "0001_auditentry"),
        ("transfers", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
