"""Input for 跨出省外调转 (申请) and the three steps of 跨省调入."""

import re

from crispy_forms.bootstrap import FieldWithButtons
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout, Submit
from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.forms import PASSWORD_HELP, MobileField, password_field, sms_button, sms_code_field
from accounts.identity import IdType, normalize_id_number, validate_id_number
from accounts.models import SmsPurpose, User
from collection.forms import county_choices, division_clean
from collection.models import Division, DivisionLevel
from portal.forms import ReferenceChoiceField
from portal.images import DOCUMENT, clean_image

from .models import TransferReason
from .provinces import other_province_choices

REQUIRED = {"required": _("此项为必填项。")}


class TransferOutForm(forms.Form):
    """调出省外申请: 调入省份, 调转原因, 调入单位/学校/地址, 证明材料."""

    to_province = forms.ChoiceField(
        label=_("调入省份"), error_messages={"required": _("请选择调入省份。"), "invalid_choice": _("请选择调入省份。")}
    )
    reason = forms.ChoiceField(
        label=_("调转原因"), choices=TransferReason.choices, widget=forms.RadioSelect,
        error_messages={"required": _("请选择调转原因。"), "invalid_choice": _("请选择调转原因。")},
    )
    destination = forms.CharField(
        label=_("调入单位、学校或地址"), max_length=200,
        help_text=_("工作调动填写调入单位名称；就学填写学校名称；居住填写居住地址。"),
        error_messages={"required": _("请填写调入单位、学校或地址。"), "max_length": _("不能超过 200 个字。")},
    )
    evidence = forms.FileField(
        label=_("证明材料"),
        help_text=_("如工作地变更证明、录取通知书、居住证等。JPG 或 PNG 图片，不超过 5 MB。"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
        error_messages={"required": _("请上传证明材料。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_province"].choices = [("", _("请选择")), *other_province_choices()]

    def clean_evidence(self):
        return clean_image(self.cleaned_data["evidence"], rule=DOCUMENT)


class TransferInVerifyForm(forms.Form):
    """跨省调入 第一步：填写验证信息."""

    name = forms.CharField(
        label=_("姓名"), max_length=50, widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("请输入姓名。")},
    )
    id_type = forms.ChoiceField(
        label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID_CARD,
        error_messages={"required": _("请选择证件类型。"), "invalid_choice": _("请选择证件类型。")},
    )
    id_number = forms.CharField(
        label=_("证件号码"), max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        error_messages={"required": _("请输入证件号码。")},
    )
    mobile = MobileField(help_text=_("须与原采集地登记的手机号码一致。"))
    sms_code = sms_code_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": "novalidate"}
        self.helper.form_id = "transfer-in-form"
        self.helper.layout = Layout(
            "name", "id_type", "id_number",
            FieldWithButtons("mobile", sms_button(SmsPurpose.TRANSFER_IN)),
            Field("sms_code"),
            Submit("next", _("下一步"), css_class="w-100"),
        )

    def clean_name(self):
        name = re.sub(r"\s+", " ", self.cleaned_data["name"]).strip()
        if not name:
            raise ValidationError(_("请输入姓名。"))
        return name

    def clean_id_number(self):
        return normalize_id_number(self.cleaned_data["id_number"])

    def clean(self):
        data = super().clean()
        id_type, number = data.get("id_type"), data.get("id_number")
        if id_type and number:
            try:
                data["id_number"] = validate_id_number(id_type, number).number
            except ValidationError as exc:
                self.add_error("id_number", exc)
        return data


class TransferInConfirmForm(forms.Form):
    """跨省调入 第二步：确认调入信息, and where in Guizhou the person works."""

    prefecture = ReferenceChoiceField(
        label=_("所属行政区划（市、州）"),
        queryset=Division.objects.filter(level__in=[DivisionLevel.PROVINCE, DivisionLevel.PREFECTURE]),
        empty_label=_("请选择"), error_messages={"required": _("请选择所属行政区划。")},
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
        label=_("工作单位"), max_length=100, error_messages={"required": _("请填写工作单位。")},
    )
    confirmed = forms.BooleanField(
        label=_("以上调入信息是本人的，且正确无误"), error_messages={"required": _("请核对调入信息后勾选确认。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = county_choices()
        self.fields["prefecture"].label_from_instance = lambda d: str(d)

    def clean(self):
        data = super().clean()
        data["division"] = division_clean(self, data)
        return data

    def choices_for_session(self) -> dict:
        data = self.cleaned_data
        return {
            "division": data["division"].pk, "employer": data["employer"].strip(),
            "provincial_declaration": bool(data.get("provincial_declaration")),
            "prefecture": data["prefecture"].pk, "county": data.get("county"),
        }


class TransferInPasswordForm(forms.Form):
    """跨省调入 第三步：设置账号登录密码."""

    password1 = password_field(_("登录密码"))
    password2 = password_field(_("确认密码"))

    def __init__(self, *args, name: str, mobile: str, id_number_probe: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = PASSWORD_HELP
        self.probe = User(name=name, mobile=mobile or None)
        self.probe._plain_id_number = id_number_probe

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif p1:
            try:
                password_validation.validate_password(p1, self.probe)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data
