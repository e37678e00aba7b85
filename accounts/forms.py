"""Input validation for registration, login and password reset."""

import re

from crispy_forms.bootstrap import FieldWithButtons, InlineRadios, StrictButton
from crispy_forms.helper import FormHelper
from crispy_forms.layout import Field, Layout, Submit
from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField
from phonenumber_field.phonenumber import PhoneNumber

from .identity import IdType, normalize_id_number, validate_id_number
from .models import SmsPurpose, User

YES_NO = [("yes", _("是")), ("no", _("否"))]
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
PASSWORD_HELP = _("至少 8 位，包含大写字母、小写字母、数字、符号中的至少三类；不能包含证件号码、手机号码或姓名。")


class MobileField(PhoneNumberField):
    """A mainland China mobile number (11 digits, 13x-19x), stored as E.164."""

    default_error_messages = {"invalid": _("请输入正确的 11 位手机号码。")}

    def __init__(self, **kwargs):
        kwargs.setdefault("region", "CN")
        kwargs.setdefault("label", _("手机号码"))
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}))
        kwargs.setdefault("error_messages", {"required": _("请输入手机号码。")})
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str):
            value = re.sub(r"[\s-]", "", value)
        number = super().to_python(value)
        if number in self.empty_values:
            return number
        if not isinstance(number, PhoneNumber) or number.country_code != 86:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        if not MOBILE_RE.match(str(number.national_number)):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number

    def prepare_value(self, value):
        # Show the national 11 digits the person typed, not "+86 ...".
        if isinstance(value, PhoneNumber) and value.country_code == 86:
            return str(value.national_number)
        return super().prepare_value(value)


def sms_code_field() -> forms.CharField:
    return forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
        error_messages={
            "required": _("请输入短信验证码。"),
            "min_length": _("短信验证码为 6 位数字。"),
            "max_length": _("短信验证码为 6 位数字。"),
        },
    )


def sms_button(purpose: str) -> StrictButton:
    """获取短信验证码: a plain submit without JavaScript, a fetch with it."""
    return StrictButton(
        _("获取短信验证码"),
        type="submit",
        name="action",
        value="send_code",
        formnovalidate="formnovalidate",
        css_class="btn-outline-primary",
        data_sms_url=reverse("accounts:sms_code_send"),
        data_sms_purpose=purpose,
    )


def password_field(label) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("请输入密码。")},
    )


class EligibilityForm(forms.Form):
    """第二步：选择信息采集对象."""

    works_in_guizhou = forms.ChoiceField(
        label=_("1. 是否在贵州省内从事会计工作？"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择是或否。")},
    )
    holds_qualification = forms.ChoiceField(
        label=_("2. 是否持有会计专业技术资格证书？"),
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择是或否。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": "novalidate"}
        self.helper.layout = Layout(
            InlineRadios("works_in_guizhou"),
            InlineRadios("holds_qualification"),
            Submit("submit", _("下一步"), css_class="w-100"),
        )

    def answers(self) -> tuple[bool, bool]:
        return self.cleaned_data["works_in_guizhou"] == "yes", self.cleaned_data["holds_qualification"] == "yes"


class RegisterForm(forms.Form):
    """第三步：填写注册信息."""

    name = forms.CharField(
        label=_("姓名"),
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("请输入姓名。")},
    )
    id_type = forms.ChoiceField(
        label=_("证件类型"),
        choices=IdType.choices,
        initial=IdType.RESIDENT_ID_CARD,
        error_messages={"required": _("请选择证件类型。"), "invalid_choice": _("请选择证件类型。")},
    )
    id_number = forms.CharField(
        label=_("证件号码"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
        error_messages={"required": _("请输入证件号码。")},
    )
    password1 = password_field(_("密码"))
    password2 = password_field(_("确认密码"))
    mobile = MobileField()
    sms_code = sms_code_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = PASSWORD_HELP
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": "novalidate"}
        self.helper.form_id = "register-form"
        self.helper.layout = Layout(
            "name",
            "id_type",
            "id_number",
            "password1",
            "password2",
            FieldWithButtons("mobile", sms_button(SmsPurpose.REGISTER)),
            Field("sms_code"),
            Submit("register", _("注册"), css_class="w-100"),
        )

    def clean_name(self):
        name = re.sub(r"\s+", " ", self.cleaned_data["name"]).strip()
        if not name:
            raise ValidationError(_("请输入姓名。"))
        return name

    def clean(self):
        data = super().clean()
        id_type, raw = data.get("id_type"), data.get("id_number")
        if id_type and raw:
            try:
                data["id_number"] = validate_id_number(id_type, raw).number
            except ValidationError as exc:
                self.add_error("id_number", exc)
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif p1:
            probe = User(name=data.get("name", ""), mobile=data.get("mobile"))
            probe._plain_id_number = data.get("id_number") if "id_number" not in self.errors else ""
            try:
                password_validation.validate_password(p1, probe)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class LoginForm(forms.Form):
    id_number = forms.CharField(
        label=_("证件号码"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "characters"}),
        error_messages={"required": _("请输入证件号码。")},
    )
    password = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("请输入密码。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": "novalidate"}
        self.helper.form_tag = False  # the template writes <form> to keep ?next=
        self.helper.layout = Layout("id_number", "password", Submit("login", _("登录"), css_class="w-100"))

    def clean_id_number(self):
        return normalize_id_number(self.cleaned_data["id_number"])


class PasswordResetVerifyForm(forms.Form):
    """忘记密码 第一步：填写账号信息."""

    name = forms.CharField(label=_("姓名"), max_length=50, error_messages={"required": _("请输入姓名。")})
    id_number = forms.CharField(
        label=_("证件号码"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "characters"}),
        error_messages={"required": _("请输入证件号码。")},
    )
    mobile = MobileField()
    sms_code = sms_code_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": "novalidate"}
        self.helper.form_id = "reset-form"
        self.helper.layout = Layout(
            "name",
            "id_number",
            FieldWithButtons("mobile", sms_button(SmsPurpose.RESET)),
            "sms_code",
            Submit("next", _("下一步"), css_class="w-100"),
        )

    def clean_name(self):
        return re.sub(r"\s+", " ", self.cleaned_data["name"]).strip()

    def clean_id_number(self):
        return normalize_id_number(self.cleaned_data["id_number"])


class PasswordResetSetForm(forms.Form):
    """忘记密码 第二步：设置新密码."""

    new_password1 = password_field(_("新密码"))
    new_password2 = password_field(_("确认密码"))

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["new_password1"].help_text = PASSWORD_HELP
        self.helper = FormHelper()
        self.helper.attrs = {"novalidate": "novalidate"}
        self.helper.layout = Layout("new_password1", "new_password2", Submit("done", _("完成"), css_class="w-100"))

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("new_password1"), data.get("new_password2")
        if p1 and p2 and p1 != p2:
            self.add_error("new_password2", _("两次输入的密码不一致。"))
        elif p1:
            try:
                password_validation.validate_password(p1, self.user)
            except ValidationError as exc:
                self.add_error("new_password1", exc)
        return data


class MobileChangeForm(forms.Form):
    """信息变更 → 联系方式: the new number, its SMS code and the current password."""

    mobile = MobileField(label=_("新手机号码"))
    sms_code = sms_code_field()
    password = forms.CharField(
        label=_("当前登录密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("请输入当前登录密码。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            FieldWithButtons("mobile", sms_button(SmsPurpose.CHANGE_PHONE)), "sms_code", "password"
        )
