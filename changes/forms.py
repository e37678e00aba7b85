"""信息变更 forms: the wizard's forms, plus what only a change has (姓名, version)."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from collection.forms import PersonalForm


class PersonalChangeForm(PersonalForm):
    """个人信息 after collection: the wizard's form with 姓名 editable. The identity
    fields (性别, 国籍, 出生日期, 证件类型, 证件号码) are not fields at all."""

    name = forms.CharField(label=_("姓名"), max_length=50, error_messages={"required": _("请输入姓名。")})

    def clean_name(self):
        name = re.sub(r"\s+", " ", self.cleaned_data["name"]).strip()
        if not name:
            raise ValidationError(_("请输入姓名。"))
        return name
