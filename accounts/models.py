from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from .identity import Gender, IdType, decrypt_id_number


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, username, password=None, **extra):
        if not username:
            raise ValueError("username is required")
        user = self.model(username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """One person. Accountants log in by ID number (username is `id:<keyed hash>`);
    staff log in to admin with a plain username."""

    username = models.CharField(_("用户名"), max_length=150, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    id_type = models.CharField(_("证件类型"), max_length=40, choices=IdType.choices, blank=True)
    id_number_encrypted = models.TextField(_("证件号码（加密）"), blank=True, editable=False)
    id_hash = models.CharField(_("证件号码索引"), max_length=64, null=True, blank=True, editable=False)
    id_number_masked = models.CharField(_("证件号码"), max_length=32, blank=True, editable=False)
    gender = models.CharField(_("性别"), max_length=10, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    nationality = models.CharField(_("国籍"), max_length=40, blank=True)
    mobile = PhoneNumberField(_("手机号码"), region="CN", null=True, blank=True)
    # 选择信息采集对象: the two registration questions, kept on the account.
    works_in_guizhou = models.BooleanField(_("在贵州省内从事会计工作"), null=True, blank=True)
    holds_qualification = models.BooleanField(_("持有会计专业技术资格证书"), null=True, blank=True)

    # 已调出: the destination province received this person's transfer out. The account
    # can still log in and read; every business action is refused (transfers.selectors).
    transferred_out_at = models.DateTimeField(_("调出时间"), null=True, blank=True, editable=False)

    is_staff = models.BooleanField(_("工作人员"), default=False)
    is_active = models.BooleanField(_("有效"), default=True)
    date_joined = models.DateTimeField(_("注册时间"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.UniqueConstraint(fields=["id_hash"], name="user_unique_id_number"),
            models.UniqueConstraint(fields=["mobile"], name="user_unique_mobile"),
            models.CheckConstraint(
                condition=Q(id_hash__isnull=True) | (~Q(id_type="") & ~Q(id_number_encrypted="")),
                name="user_id_number_complete",
            ),
        ]
        # The admin lists accounts newest first: without it, each page sorts every account.
        indexes = [models.Index(fields=["-date_joined", "-id"], name="user_date_joined")]

    def __str__(self) -> str:
        return f"{self.name} ({self.id_number_masked})" if self.id_number_masked else self.username

    @property
    def is_accountant(self) -> bool:
        return bool(self.id_hash)

    @property
    def is_transferred_out(self) -> bool:
        return self.transferred_out_at is not None

    @property
    def id_number(self) -> str:
        """The full ID number, decrypted on demand. Never log or render it in lists."""
        return decrypt_id_number(self.id_number_encrypted) if self.id_number_encrypted else ""


class UserSession(models.Model):
    """Sessions of an account, so a password reset can end all of them server-side."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("登录会话")
        verbose_name_plural = _("登录会话")

    def __str__(self) -> str:
        return f"session of user {self.user_id}"


class SmsPurpose(models.TextChoices):
    REGISTER = "register", _("用户注册")
    RESET = "reset", _("忘记密码")
    CHANGE_PHONE = "change_phone", _("变更手机号码")
    TRANSFER_IN = "transfer_in", _("跨省调入")


class SmsCode(models.Model):
    """A verification code; only its keyed hash is stored."""

    mobile = PhoneNumberField(region="CN")
    purpose = models.CharField(max_length=20, choices=SmsPurpose.choices)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    failures = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [models.Index(fields=["mobile", "purpose", "-created_at"], name="smscode_lookup")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} code for {self.mobile}"


class SmsStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class SmsMessage(models.Model):
    """The SMS outbox: written in the business transaction, sent by a task."""

    mobile = PhoneNumberField(_("手机号码"), region="CN")
    body = models.TextField(_("内容"))
    status = models.CharField(_("状态"), max_length=10, choices=SmsStatus.choices, default=SmsStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    gateway_message_id = models.CharField(_("网关消息编号"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("短信")
        verbose_name_plural = _("短信发件箱")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"], name="smsmessage_pending")]

    def __str__(self) -> str:
        return f"{self.mobile} {self.get_status_display()}"


class Throttle(models.Model):
    """A fixed-window hit counter in the database (after healthchecks' TokenBucket).

    The row also serves as the lock that serialises concurrent requests for one key.
    """

    key = models.CharField(max_length=100, unique=True)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("频率限制")
        verbose_name_plural = _("频率限制")

    def __str__(self) -> str:
        return self.key


# --- staff back office ------------------------------------------------------------------------


class StaffUnitKind(models.TextChoices):
    PROVINCE = "province", _("省（全省）")
    PROVINCIAL = "provincial", _("省本级")
    DIVISION = "division", _("市（州）或县（市、区）")


class StaffProfile(models.Model):
    """A staff user's management unit: what part of the province they see in admin
    (accounts/staff.py turns it into the queryset filter). No profile: nothing."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="staff_profile",
                                verbose_name=_("工作人员"))
    unit_kind = models.CharField(_("管理单位类型"), max_length=12, choices=StaffUnitKind.choices)
    division = models.ForeignKey(
        "collection.Division", verbose_name=_("管理区划"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("工作人员管理单位")
        verbose_name_plural = _("工作人员管理单位")
        permissions = [
            ("reveal_id_number", _("查看完整证件号码")),
            ("export_archives", _("导出信息档案")),
            ("export_credit_compliance", _("导出继续教育达标情况")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(unit_kind="division") & Q(division__isnull=False))
                | (~Q(unit_kind="division") & Q(division__isnull=True)),
                name="staffprofile_division_iff_division_unit",
            ),
        ]

    def __str__(self) -> str:
        if self.unit_kind == StaffUnitKind.DIVISION and self.division_id:
            return str(self.division)
        return self.get_unit_kind_display()
