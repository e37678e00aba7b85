"""Forms of the information-collection wizard, reused by 信息变更.

Forms validate input only; the services in collection/services.py save it.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.identity import CHINESE_NATIONAL_TYPES, TYPES_WITH_BIRTH_DATE, Gender
from portal.forms import ReferenceChoiceField
from portal.images import DOCUMENT, PHOTO, clean_image

from .models import (
    EMPLOYED_STATUSES,
    PROVINCIAL_LEVEL_CODE,
    AbacusLevel,
    Archive,
    Award,
    Degree,
    Division,
    DivisionLevel,
    Education,
    EducationLevel,
    EducationMode,
    EmploymentStatus,
    Ethnicity,
    HighEndTalent,
    PoliticalStatus,
    ProfessionalQualification,
    TalentStatus,
)

REQUIRED = {"required": _("此项为必填项。")}
YES_NO = [("", _("请选择")), ("true", _("是")), ("false", _("否"))]
IMAGE_ACCEPT = "image/jpeg,image/png"


def _today() -> dt.date:
    return timezone.localdate()


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def image_field(label, help_text=None) -> forms.FileField:
    return forms.FileField(
        label=label,
        required=False,
        help_text=help_text or _("JPG 或 PNG，不超过 5 MB。"),
        widget=forms.ClearableFileInput(attrs={"accept": IMAGE_ACCEPT}),
    )


class UploadsMixin:
    """Image fields are cleaned into re-encoded JPEGs; valid ones can be stored
    even when the rest of the form fails, so nothing uploaded is lost."""

    upload_rules: dict = {}

    def _clean_upload(self, name):
        upload = self.cleaned_data.get(name)
        if not upload:
            return None
        return clean_image(upload, rule=self.upload_rules[name])

    def valid_uploads(self) -> dict:
        """Cleaned images of the upload fields that passed, even if the form did not."""
        result = {}
        for name in self.upload_rules:
            if name in self.errors:
                continue
            value = getattr(self, "cleaned_data", {}).get(name)
            if value:
                result[name] = value
        return result

    def require_upload(self, name, archive, message):
        if not self.cleaned_data.get(name) and not getattr(archive, name) and name not in self.errors:
            self.add_error(name, message)


class PersonalForm(UploadsMixin, forms.Form):
    """第三步：个人信息."""

    upload_rules = {"photo": PHOTO, "id_card_front": DOCUMENT, "id_card_back": DOCUMENT}

    ethnicity = ReferenceChoiceField(
        label=_("民族"), queryset=Ethnicity.objects.all(), empty_label=_("请选择"), error_messages=REQUIRED
    )
    political_status = ReferenceChoiceField(
        label=_("政治面貌"), queryset=PoliticalStatus.objects.all(), empty_label=_("请选择"), error_messages=REQUIRED
    )
    email = forms.EmailField(
        label=_("电子邮箱"),
        max_length=254,
        error_messages={**REQUIRED, "invalid": _("请输入有效的电子邮箱地址。")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    photo = image_field(_("免冠证件照"), _("JPG 或 PNG，不超过 5 MB，至少 295×413 像素。"))
    id_card_front = image_field(_("身份证人像面"))
    id_card_back = image_field(_("身份证国徽面"))

    def __init__(self, *args, archive: Archive, **kwargs):
        super().__init__(*args, **kwargs)
        self.archive = archive
        user = archive.user
        # Identity facts the ID number does not carry are entered once, before collection.
        self.asks_identity = user.id_type not in TYPES_WITH_BIRTH_DATE and archive.status != "collected"
        if self.asks_identity and not user.gender:
            self.fields["gender"] = forms.ChoiceField(
                label=_("性别"), choices=[("", _("请选择")), *Gender.choices], error_messages=REQUIRED
            )
        if self.asks_identity and not user.birth_date:
            self.fields["birth_date"] = forms.DateField(
                label=_("出生日期"), widget=DateInput(), error_messages={**REQUIRED, "invalid": _("请输入有效日期。")}
            )
        if user.id_type not in CHINESE_NATIONAL_TYPES and not user.nationality and archive.status != "collected":
            self.fields["nationality"] = forms.CharField(label=_("国籍"), max_length=40, error_messages=REQUIRED)

    def clean_photo(self):
        return self._clean_upload("photo")

    def clean_id_card_front(self):
        return self._clean_upload("id_card_front")

    def clean_id_card_back(self):
        return self._clean_upload("id_card_back")

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value > _today() or value.year < 1900:
            raise ValidationError(_("请输入有效的出生日期。"))
        return value

    def clean(self):
        data = super().clean()
        self.require_upload("photo", self.archive, _("请上传免冠证件照。"))
        self.require_upload("id_card_front", self.archive, _("请上传身份证人像面。"))
        self.require_upload("id_card_back", self.archive, _("请上传身份证国徽面。"))
        return data


class EducationForm(forms.ModelForm):
    """全日制教育 (required) or 非全日制教育 (optional: all or nothing)."""

    class Meta:
        model = Education
        fields = ["level", "degree", "school", "major", "start_date", "graduation_date"]
        field_classes = {"level": ReferenceChoiceField, "degree": ReferenceChoiceField}
        widgets = {"start_date": DateInput(), "graduation_date": DateInput()}

    def __init__(self, *args, optional: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.optional = optional
        self.fields["level"].queryset = EducationLevel.objects.all()
        self.fields["degree"].queryset = Degree.objects.all()
        for field in self.fields.values():
            field.error_messages.update(REQUIRED)
            if hasattr(field, "empty_label"):
                field.empty_label = _("请选择")
            if optional:
                field.required = False
        for name in ("start_date", "graduation_date"):
            self.fields[name].error_messages["invalid"] = _("请输入有效日期。")

    def is_blank(self) -> bool:
        return self.optional and not any(
            self.data.get(self.add_prefix(name), "").strip() for name in self.fields if name in self.Meta.fields
        )

    def full_clean(self):
        if self.is_bound and self.is_blank():
            self._errors = forms.utils.ErrorDict()
            self.cleaned_data = {}
            return
        if not self.optional:
            super().full_clean()
            return
        # Filled in at all: every field is needed. Only while validating, so the
        # optional section is not drawn with required marks.
        for field in self.fields.values():
            field.required = True
        try:
            super().full_clean()
        finally:
            for field in self.fields.values():
                field.required = False

    def _post_clean(self):
        pass  # no model instance validation: the archive is set by the service

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("graduation_date")
        if start and start > _today():
            self.add_error("start_date", _("入学日期不能晚于今天。"))
        if start and end and end <= start:
            self.add_error("graduation_date", _("毕业日期应晚于入学日期。"))
        return data

    def values(self) -> dict | None:
        if self.is_blank():
            return None
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class CertificationForm(forms.Form):
    """专业技术认证: 是否注册会计师 / 税务师 / 资产评估师, 珠算等级."""

    is_cpa = forms.TypedChoiceField(
        label=_("是否注册会计师"), choices=YES_NO, coerce=lambda v: v == "true", error_messages=REQUIRED
    )
    is_tax_agent = forms.TypedChoiceField(
        label=_("是否税务师"), choices=YES_NO, coerce=lambda v: v == "true", error_messages=REQUIRED
    )
    is_asset_appraiser = forms.TypedChoiceField(
        label=_("是否资产评估师"), choices=YES_NO, coerce=lambda v: v == "true", error_messages=REQUIRED
    )
    abacus_level = forms.ChoiceField(
        label=_("珠算等级"), choices=[("", _("请选择")), *AbacusLevel.choices], error_messages=REQUIRED
    )

    @staticmethod
    def initial_from(archive: Archive) -> dict:
        def yn(value):
            return "" if value is None else ("true" if value else "false")

        return {
            "is_cpa": yn(archive.is_cpa),
            "is_tax_agent": yn(archive.is_tax_agent),
            "is_asset_appraiser": yn(archive.is_asset_appraiser),
            "abacus_level": archive.abacus_level,
        }


class _RowForm(forms.ModelForm):
    """A repeatable row: validated here, saved by the service."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.error_messages.update(REQUIRED)
            if isinstance(field, forms.DateField):
                field.error_messages["invalid"] = _("请输入有效日期。")
            if isinstance(field, forms.TypedChoiceField | forms.ChoiceField) and field.choices:
                choices = list(field.choices)
                if choices and choices[0][0] == "":
                    field.choices = [("", _("请选择")), *choices[1:]]

    def _post_clean(self):
        pass

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class QualificationForm(_RowForm):
    class Meta:
        model = ProfessionalQualification
        fields = ["qualification_type", "level", "method", "obtained_on", "certificate_number"]
        widgets = {"obtained_on": DateInput()}

    def clean_obtained_on(self):
        value = self.cleaned_data["obtained_on"]
        if value > _today() or value.year < 1950:
            raise ValidationError(_("取得时间应在 1950 年至今天之间。"))
        return value


class TalentForm(_RowForm):
    class Meta:
        model = HighEndTalent
        fields = ["talent_type", "selected_year", "batch", "status", "graduation_year"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        this_year = _today().year
        for name in ("selected_year", "graduation_year"):
            self.fields[name].widget = forms.NumberInput(attrs={"min": 1990, "max": this_year, "inputmode": "numeric"})
            self.fields[name].error_messages["invalid"] = _("请输入四位年份。")
        self.fields["graduation_year"].help_text = _("培养状态为“已毕业”时填写。")

    def clean(self):
        data = super().clean()
        this_year = _today().year
        for name in ("selected_year", "graduation_year"):
            year = data.get(name)
            if year is not None and not 1990 <= year <= this_year:
                self.add_error(name, _("年份应在 1990 年至今年之间。"))
        status, grad = data.get("status"), data.get("graduation_year")
        if status == TalentStatus.GRADUATED and grad is None and "graduation_year" not in self.errors:
            self.add_error("graduation_year", _("培养状态为“已毕业”时须填写毕业年度。"))
        if status and status != TalentStatus.GRADUATED and grad is not None:
            self.add_error("graduation_year", _("只有“已毕业”才填写毕业年度。"))
        selected = data.get("selected_year")
        if selected and grad and grad < selected:
            self.add_error("graduation_year", _("毕业年度不能早于入选年度。"))
        return data


class AwardForm(_RowForm):
    class Meta:
        model = Award
        fields = ["content", "level", "awarded_on", "issuer", "remark", "other_credit_info"]
        widgets = {"awarded_on": DateInput()}

    def clean_awarded_on(self):
        value = self.cleaned_data["awarded_on"]
        if value > _today():
            raise ValidationError(_("获奖日期不能晚于今天。"))
        return value


class _RowFormSet(forms.BaseFormSet):
    def values(self) -> list[dict]:
        return [f.values() for f in self.forms if f.has_changed() and not self._should_delete_form(f)]


def _formset(form, max_num):
    return forms.formset_factory(
        form, formset=_RowFormSet, extra=0, can_delete=True, max_num=max_num, validate_max=True,
        absolute_max=max_num,  # a posted TOTAL_FORMS of thousands must not build thousands of forms
    )


QualificationFormSet = _formset(QualificationForm, 20)
TalentFormSet = _formset(TalentForm, 10)
AwardFormSet = _formset(AwardForm, 30)

ROW_FORMSETS = {
    # prefix: (formset class, model, heading)
    "qualifications": (QualificationFormSet, ProfessionalQualification, _("专业技术资格信息")),
    "talents": (TalentFormSet, HighEndTalent, _("高端会计人才信息")),
    "awards": (AwardFormSet, Award, _("奖励信息")),
}


def county_choices():
    """县（市、区） grouped under their 市（州）, for the county select that follows the prefecture."""
    groups: dict[str, list] = {}
    for county in Division.objects.filter(level=DivisionLevel.COUNTY).select_related("parent").order_by("code"):
        groups.setdefault(county.parent.name, []).append((county.pk, county.name))
    return [("", _("请选择县（市、区）")), *groups.items()]


def division_clean(form: forms.Form, data: dict) -> Division | None:
    """所属行政区划 from the prefecture and county fields (and the 省本级 declaration);
    errors go on the form's fields. Shared by 工作信息 and 跨省调入."""
    prefecture, county_id = data.get("prefecture"), data.get("county")
    if prefecture is not None and prefecture.code == PROVINCIAL_LEVEL_CODE:
        if not data.get("provincial_declaration"):
            form.add_error(
                "provincial_declaration", _("省本级仅限省直行政事业单位或省属国有企业人员选择，请勾选声明。")
            )
        return prefecture
    if prefecture is None:
        return None
    county = Division.objects.filter(pk=county_id, level=DivisionLevel.COUNTY).first() if county_id else None
    if county is None:
        form.add_error("county", _("请选择县（市、区）。"))
        return None
    if county.parent_id != prefecture.pk:
        form.add_error("county", _("所选县（市、区）不属于所选市（州），请重新选择。"))
        return None
    return county


class WorkForm(UploadsMixin, forms.Form):
    """第六步：工作信息."""

    upload_rules = {"student_card": DOCUMENT}

    employment_status = forms.ChoiceField(
        label=_("在岗状态"), choices=EmploymentStatus.choices, widget=forms.RadioSelect, error_messages=REQUIRED
    )
    prefecture = ReferenceChoiceField(
        label=_("所属行政区划（市、州）"),
        queryset=Division.objects.filter(level__in=[DivisionLevel.PROVINCE, DivisionLevel.PREFECTURE]),
        empty_label=_("请选择"),
        error_messages=REQUIRED,
    )
    county = forms.TypedChoiceField(
        label=_("县（市、区）"), required=False, coerce=int, empty_value=None,
        help_text=_("选择市（州）后选择县（市、区）；选择“省本级”时不填。"),
    )
    provincial_declaration = forms.BooleanField(
        label=_("本人所在单位为省直行政事业单位或省属国有企业"), required=False,
        help_text=_("仅在选择“省本级”时勾选。"),
    )
    employer = forms.CharField(
        label=_("工作单位"), max_length=100, required=False, help_text=_("会计工作岗位、非会计工作岗位人员填写。")
    )
    school = forms.CharField(label=_("学校"), max_length=100, required=False, help_text=_("在校生填写。"))
    student_card = image_field(_("学生证"), _("在校生上传。JPG 或 PNG，不超过 5 MB。"))

    def __init__(self, *args, archive: Archive, **kwargs):
        super().__init__(*args, **kwargs)
        self.archive = archive
        self.fields["county"].choices = county_choices()
        self.fields["prefecture"].label_from_instance = lambda d: str(d)

    @staticmethod
    def initial_from(archive: Archive) -> dict:
        division = archive.division
        if division is None:
            return {"employment_status": archive.employment_status}
        is_county = division.level == DivisionLevel.COUNTY
        return {
            "employment_status": archive.employment_status,
            "prefecture": division.parent_id if is_county else division.pk,
            "county": division.pk if is_county else None,
            "provincial_declaration": archive.provincial_declaration,
            "employer": archive.employer,
            "school": archive.school,
        }

    def clean_student_card(self):
        return self._clean_upload("student_card")

    def clean(self):
        data = super().clean()
        status = data.get("employment_status")
        data["division"] = division_clean(self, data)
        if status in EMPLOYED_STATUSES and not data.get("employer", "").strip():
            self.add_error("employer", _("请填写工作单位。"))
        if status == EmploymentStatus.STUDENT:
            if not data.get("school", "").strip():
                self.add_error("school", _("请填写学校名称。"))
            self.require_upload("student_card", self.archive, _("在校生须上传学生证。"))
        return data


def _row_initial(archive, prefix):
    _cls, model, _label = ROW_FORMSETS[prefix]
    fields = _cls.form.Meta.fields
    return list(model.objects.filter(archive=archive).values(*fields))


def professional_forms(archive, data=None):
    """The certification form and the three row formsets, bound or from the archive."""
    if data is None:
        certification = CertificationForm(initial=CertificationForm.initial_from(archive))
        formsets = {p: cls(prefix=p, initial=_row_initial(archive, p)) for p, (cls, _m, _l) in ROW_FORMSETS.items()}
    else:
        certification = CertificationForm(data)
        formsets = {p: cls(data, prefix=p) for p, (cls, _m, _l) in ROW_FORMSETS.items()}
    return certification, formsets


def education_forms(archive, data=None):
    """全日制 (prefix ft) and 非全日制 (prefix pt) education forms for the archive."""
    saved = {e.mode: e for e in archive.educations.all()}
    result = {}
    for mode, prefix, optional in ((EducationMode.FULL_TIME, "ft", False), (EducationMode.PART_TIME, "pt", True)):
        result[prefix] = EducationForm(data, prefix=prefix, instance=saved.get(mode), optional=optional)
    return result["ft"], result["pt"]


def formset_with_extra_row(data: QueryDict, prefix: str) -> QueryDict:
    """新增 without JavaScript: one more empty row, everything typed kept."""
    data = data.copy()
    key = f"{prefix}-TOTAL_FORMS"
    try:
        total = max(int(data.get(key) or 0), 0)
    except ValueError:  # a tampered count: start again from no rows rather than fail
        total = 0
    data[key] = str(min(total + 1, ROW_FORMSETS[prefix][0].max_num))
    return data


def formset_without_errors(formset) -> None:
    """Show a bound formset's rows with what was typed but no error messages:
    a 新增 round trip is not a submission (templates then skip validation)."""
    formset._errors, formset._non_form_errors = [], forms.utils.ErrorList()
    for form in formset.forms:
        form._errors, form.cleaned_data = forms.utils.ErrorDict(), {}


def unbound_from(data, form_class):
    """The form unbound, showing the posted values as initial (no error noise)."""
    return form_class(initial={k: data.get(k) for k in form_class.base_fields})


def labelled_formsets(formsets):
    return [(prefix, ROW_FORMSETS[prefix][2], fs) for prefix, fs in formsets.items()]
