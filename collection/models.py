"""The archive (信息档案) and its parts, and the reference code tables.

Absolute rules are database constraints; rules that only bind a finished
archive are constraints conditioned on status = 已采集, so drafts may be partial.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

# --- reference tables ---------------------------------------------------------------


class Ethnicity(models.Model):
    """民族 (GB/T 3304, plus 穿青人 X1 and 革家人 X2)."""

    code = models.CharField(_("代码"), max_length=4, unique=True)
    name = models.CharField(_("名称"), max_length=20, unique=True)
    in_standard = models.BooleanField(_("国标代码"), default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("民族")
        verbose_name_plural = _("民族")

    def __str__(self) -> str:
        return self.name


class PoliticalStatus(models.Model):
    """政治面貌 (GB/T 4762)."""

    code = models.CharField(_("代码"), max_length=4, unique=True)
    full_name = models.CharField(_("全称"), max_length=40)
    name = models.CharField(_("名称"), max_length=20)

    class Meta:
        ordering = ["code"]
        verbose_name = _("政治面貌")
        verbose_name_plural = _("政治面貌")

    def __str__(self) -> str:
        return self.name


class EducationLevel(models.Model):
    """学历 (simplified list with GB/T 4658 codes)."""

    code = models.CharField(_("代码"), max_length=4, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order"]
        verbose_name = _("学历")
        verbose_name_plural = _("学历")

    def __str__(self) -> str:
        return self.name


class Degree(models.Model):
    """学位 (simplified: 博士 / 硕士 / 学士 / 无)."""

    code = models.CharField(_("代码"), max_length=4, unique=True)
    name = models.CharField(_("名称"), max_length=20)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["sort_order"]
        verbose_name = _("学位")
        verbose_name_plural = _("学位")

    def __str__(self) -> str:
        return self.name


class DivisionLevel(models.TextChoices):
    PROVINCE = "province", _("省")
    PREFECTURE = "prefecture", _("市（州）")
    COUNTY = "county", _("县（市、区）")


PROVINCIAL_LEVEL_CODE = "520000"  # 省本级: registered at the province itself


class Division(models.Model):
    """Guizhou's current divisions: the province (= 省本级), 9 prefectures, 88 counties."""

    code = models.CharField(_("区划代码"), max_length=6, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    level = models.CharField(_("级别"), max_length=12, choices=DivisionLevel.choices)
    kind = models.CharField(_("类型"), max_length=10, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")

    def __str__(self) -> str:
        if self.code == PROVINCIAL_LEVEL_CODE:
            return str(_("省本级"))
        if self.level == DivisionLevel.COUNTY and self.parent_id:
            return f"{self.parent.name} {self.name}"
        return self.name

    @property
    def is_provincial_level(self) -> bool:
        return self.code == PROVINCIAL_LEVEL_CODE


class HistoricalDivision(models.Model):
    """Abolished division codes still printed in old ID numbers. For reading, never offered."""

    code = models.CharField(max_length=6)
    name = models.CharField(max_length=30)
    valid_from_year = models.PositiveSmallIntegerField(null=True, blank=True)
    valid_to_year = models.PositiveSmallIntegerField(null=True, blank=True)
    successor_codes = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("历史行政区划")
        verbose_name_plural = _("历史行政区划")
        constraints = [models.UniqueConstraint(fields=["code", "name"], name="historicaldivision_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


# --- the archive ---------------------------------------------------------------------


class ArchiveStatus(models.TextChoices):
    NOT_COLLECTED = "not_collected", _("未采集")
    DRAFT = "draft", _("采集中")
    COLLECTED = "collected", _("已采集")


class AbacusLevel(models.TextChoices):
    NONE = "none", _("无")
    LEVEL_6 = "6", _("六级")
    LEVEL_5 = "5", _("五级")
    LEVEL_4 = "4", _("四级")
    LEVEL_3 = "3", _("三级")
    LEVEL_2 = "2", _("二级")
    LEVEL_1 = "1", _("一级")
    EXPERT = "expert", _("能手级")


class EmploymentStatus(models.TextChoices):
    ACCOUNTING = "accounting", _("会计工作岗位")
    NON_ACCOUNTING = "non_accounting", _("非会计工作岗位")
    UNEMPLOYED = "unemployed", _("待业")
    STUDENT = "student", _("在校生")


EMPLOYED_STATUSES = (EmploymentStatus.ACCOUNTING, EmploymentStatus.NON_ACCOUNTING)


def upload_to(instance, filename: str) -> str:
    """Random names: nothing about the person or the original file name leaks."""
    return f"archives/{uuid.uuid4().hex}.jpg"


class Archive(models.Model):
    """One person's archive: personal info, certifications and work info live
    here; education and the repeatable rows in their own tables."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="archive")
    status = models.CharField(_("采集状态"), max_length=16, choices=ArchiveStatus.choices, default=ArchiveStatus.DRAFT)
    archive_number = models.CharField(_("档案编号"), max_length=20, null=True, blank=True, unique=True)
    collected_at = models.DateTimeField(_("采集时间"), null=True, blank=True)
    notice_accepted_at = models.DateTimeField(_("承诺时间"), null=True, blank=True)
    # Steps whose form validated and was saved (the submit step re-checks the data itself).
    personal_done = models.BooleanField(default=False)
    education_done = models.BooleanField(default=False)
    professional_done = models.BooleanField(default=False)
    work_done = models.BooleanField(default=False)
    # Raw input of a step that did not validate yet, so nothing typed is lost on 上一步.
    step_drafts = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # 个人信息
    ethnicity = models.ForeignKey(Ethnicity, verbose_name=_("民族"), on_delete=models.PROTECT, null=True, blank=True)
    political_status = models.ForeignKey(
        PoliticalStatus, verbose_name=_("政治面貌"), on_delete=models.PROTECT, null=True, blank=True
    )
    email = models.EmailField(_("电子邮箱"), blank=True)
    photo = models.FileField(_("免冠证件照"), upload_to=upload_to, blank=True)
    id_card_front = models.FileField(_("身份证人像面"), upload_to=upload_to, blank=True)
    id_card_back = models.FileField(_("身份证国徽面"), upload_to=upload_to, blank=True)

    # 专业技术认证
    is_cpa = models.BooleanField(_("是否注册会计师"), null=True, blank=True)
    is_tax_agent = models.BooleanField(_("是否税务师"), null=True, blank=True)
    is_asset_appraiser = models.BooleanField(_("是否资产评估师"), null=True, blank=True)
    abacus_level = models.CharField(_("珠算等级"), max_length=10, choices=AbacusLevel.choices, blank=True)

    # 工作信息
    employment_status = models.CharField(_("在岗状态"), max_length=16, choices=EmploymentStatus.choices, blank=True)
    division = models.ForeignKey(
        Division, verbose_name=_("所属行政区划"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    employer = models.CharField(_("工作单位"), max_length=100, blank=True)
    school = models.CharField(_("学校"), max_length=100, blank=True)
    student_card = models.FileField(_("学生证"), upload_to=upload_to, blank=True)
    provincial_declaration = models.BooleanField(_("省本级单位声明"), default=False)

    class Meta:
        verbose_name = _("信息档案")
        verbose_name_plural = _("信息档案")
        indexes = [
            models.Index(fields=["status", "division"], name="archive_status_division"),
            # The admin lists archives newest first: without it, each page sorts all of them.
            models.Index(fields=["-collected_at", "-id"], name="archive_collected_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="collected", archive_number__isnull=False, collected_at__isnull=False)
                | (~Q(status="collected") & Q(archive_number__isnull=True)),
                name="archive_number_iff_collected",
            ),
            models.CheckConstraint(
                condition=~Q(status="collected")
                | (
                    Q(ethnicity__isnull=False, political_status__isnull=False, division__isnull=False)
                    & ~Q(photo="")
                    & ~Q(id_card_front="")
                    & ~Q(id_card_back="")
                    & ~Q(employment_status="")
                ),
                name="archive_collected_complete",
            ),
            models.CheckConstraint(
                condition=~Q(status="collected")
                | ~Q(employment_status="student")
                | (~Q(school="") & ~Q(student_card="")),
                name="archive_student_has_card",
            ),
            models.CheckConstraint(
                condition=~Q(status="collected")
                | ~Q(employment_status__in=["accounting", "non_accounting"])
                | ~Q(employer=""),
                name="archive_employed_has_employer",
            ),
        ]

    def __str__(self) -> str:
        return self.archive_number or f"draft #{self.pk}"


class EducationMode(models.TextChoices):
    FULL_TIME = "full_time", _("全日制")
    PART_TIME = "part_time", _("非全日制")


class Education(models.Model):
    """全日制教育 / 非全日制教育: at most one of each per archive."""

    archive = models.ForeignKey(Archive, on_delete=models.CASCADE, related_name="educations")
    mode = models.CharField(_("培养方式"), max_length=10, choices=EducationMode.choices)
    level = models.ForeignKey(EducationLevel, verbose_name=_("学历"), on_delete=models.PROTECT)
    degree = models.ForeignKey(Degree, verbose_name=_("学位"), on_delete=models.PROTECT)
    school = models.CharField(_("毕业院校"), max_length=100)
    major = models.CharField(_("所学专业"), max_length=100)
    start_date = models.DateField(_("入学日期"))
    graduation_date = models.DateField(_("毕业日期"))

    class Meta:
        verbose_name = _("学历信息")
        verbose_name_plural = _("学历信息")
        constraints = [
            models.UniqueConstraint(fields=["archive", "mode"], name="education_one_per_mode"),
            models.CheckConstraint(condition=Q(graduation_date__gt=F("start_date")), name="education_dates_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} {self.school}"


class QualificationType(models.TextChoices):
    ACCOUNTING = "accounting", _("会计类")
    ECONOMICS = "economics", _("经济类")
    AUDIT = "audit", _("审计类")
    STATISTICS = "statistics", _("统计类")
    OTHER = "other", _("其他")


class QualificationLevel(models.TextChoices):
    JUNIOR = "junior", _("初级")
    INTERMEDIATE = "intermediate", _("中级")
    SENIOR = "senior", _("高级")
    PROFESSOR = "professor", _("正高级")


class QualificationMethod(models.TextChoices):
    REVIEW = "review", _("评审")
    EXAM = "exam", _("考试")
    EXAM_REVIEW = "exam_review", _("考评")


class ProfessionalQualification(models.Model):
    """专业技术资格 (0..n)."""

    archive = models.ForeignKey(Archive, on_delete=models.CASCADE, related_name="qualifications")
    qualification_type = models.CharField(_("专业技术资格类型"), max_length=12, choices=QualificationType.choices)
    level = models.CharField(_("专业技术资格级别"), max_length=12, choices=QualificationLevel.choices)
    method = models.CharField(_("专业技术资格取得方式"), max_length=12, choices=QualificationMethod.choices)
    obtained_on = models.DateField(_("专业技术资格取得时间"))
    certificate_number = models.CharField(_("证书号或批文号"), max_length=50)

    class Meta:
        ordering = ["obtained_on", "id"]
        verbose_name = _("专业技术资格")
        verbose_name_plural = _("专业技术资格")
        indexes = [models.Index(fields=["level"], name="qualification_level")]

    def __str__(self) -> str:
        return f"{self.get_qualification_type_display()} {self.get_level_display()}"


class TalentType(models.TextChoices):
    HIGH_END = "high_end", _("高端会计人才")
    INTERNATIONAL = "international", _("国际化高端会计人才")
    SPECIAL_SUPPORT = "special_support", _("全国高端会计人才特殊支持计划")
    CHIEF_ACCOUNTANT = "chief_accountant", _("全国中大型企事业单位总会计师培训（高端班）")


class TalentStatus(models.TextChoices):
    IN_TRAINING = "in_training", _("培养中")
    GRADUATED = "graduated", _("已毕业")
    ELIMINATED = "eliminated", _("已淘汰")
    REMOVED = "removed", _("已除名")


class HighEndTalent(models.Model):
    """高端会计人才 (0..n). 毕业年度 is given exactly when 已毕业."""

    archive = models.ForeignKey(Archive, on_delete=models.CASCADE, related_name="talents")
    talent_type = models.CharField(_("会计人才类型"), max_length=20, choices=TalentType.choices)
    selected_year = models.PositiveSmallIntegerField(_("入选年度"))
    batch = models.CharField(_("期次"), max_length=20)
    status = models.CharField(_("培养状态"), max_length=12, choices=TalentStatus.choices)
    graduation_year = models.PositiveSmallIntegerField(_("毕业年度"), null=True, blank=True)

    class Meta:
        ordering = ["selected_year", "id"]
        verbose_name = _("高端会计人才")
        verbose_name_plural = _("高端会计人才")
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="graduated") & Q(graduation_year__isnull=False))
                | (~Q(status="graduated") & Q(graduation_year__isnull=True)),
                name="talent_graduation_year_iff_graduated",
            ),
            models.CheckConstraint(
                condition=Q(graduation_year__isnull=True) | Q(graduation_year__gte=F("selected_year")),
                name="talent_graduation_after_selection",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_talent_type_display()} {self.selected_year}"


class AwardLevel(models.TextChoices):
    NATIONAL = "national", _("国家级")
    PROVINCIAL = "provincial", _("省部级")
    MUNICIPAL = "municipal", _("地市级")
    OTHER = "other", _("其他")


class Award(models.Model):
    """奖励信息 (0..n)."""

    archive = models.ForeignKey(Archive, on_delete=models.CASCADE, related_name="awards")
    content = models.CharField(_("奖励内容"), max_length=200)
    level = models.CharField(_("奖励级别"), max_length=12, choices=AwardLevel.choices)
    awarded_on = models.DateField(_("获奖日期"))
    issuer = models.CharField(_("颁奖单位"), max_length=100)
    remark = models.CharField(_("备注"), max_length=200, blank=True)
    other_credit_info = models.CharField(_("其他守信信息"), max_length=200, blank=True)

    class Meta:
        ordering = ["awarded_on", "id"]
        verbose_name = _("奖励信息")
        verbose_name_plural = _("奖励信息")

    def __str__(self) -> str:
        return self.content
