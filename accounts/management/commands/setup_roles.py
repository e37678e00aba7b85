"""Create or refresh the staff roles (groups) with exactly their permissions. Idempotent."""

from django.core.management.base import BaseCommand

from accounts.roles import ROLE_NAMES, roles_setup


class Command(BaseCommand):
    help = ("Create or update the staff roles 审核员, 查询员, 系统管理员, 审计员 as groups with least-privilege "
            "permissions (safe to run again; run after migrating new apps).")

    def handle(self, *args, **options):
        counts = roles_setup()
        for role in ROLE_NAMES:
            self.stdout.write(f"  {role}: {counts[role]} permissions")
        self.stdout.write(self.style.SUCCESS(f"setup_roles: {len(counts)} roles up to date"))
