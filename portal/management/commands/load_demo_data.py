"""A small demo data set for `make run`: one accountant and one staff user. Idempotent."""

from django.core.management.base import BaseCommand

from accounts.identity import IdType
from accounts.models import User
from accounts.services import account_create, user_get_by_id_number

DEMO_ID_NUMBER = "520102199003071236"
DEMO_PASSWORD = "Gzkj#Demo2026"  # noqa: S105 - documented demo credential for local use only
DEMO_ADMIN = ("admin", "Admin#Portal2026")


class Command(BaseCommand):
    help = "Create the demo accountant and the demo admin user if they do not exist."

    def handle(self, *args, **options):
        if user_get_by_id_number(id_number=DEMO_ID_NUMBER) is None:
            account_create(
                name="张三",
                id_type=IdType.RESIDENT_ID_CARD,
                id_number=DEMO_ID_NUMBER,
                password=DEMO_PASSWORD,
                mobile="+8613800000001",
                works_in_guizhou=True,
                holds_qualification=True,
            )
        if not User.objects.filter(username=DEMO_ADMIN[0]).exists():
            User.objects.create_superuser(DEMO_ADMIN[0], DEMO_ADMIN[1], name="演示管理员")
        self.stdout.write(
            "demo data ready:\n"
            f"  accountant  证件号码 {DEMO_ID_NUMBER}  密码 {DEMO_PASSWORD}  (张三, 13800000001)\n"
            f"  staff admin /admin/  用户名 {DEMO_ADMIN[0]}  密码 {DEMO_ADMIN[1]}"
        )
