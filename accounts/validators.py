"""Password policy: three of four character classes; no personal data inside."""

import re

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule with a Chinese message (5.2's new wording is not in the zh_Hans catalogue)."""

    def get_error_message(self):
        return _("密码长度不能少于 %(min_length)d 位。") % {"min_length": self.min_length}

    def get_help_text(self):
        return _("密码至少 %(min_length)d 位。") % {"min_length": self.min_length}


class CharacterClassesValidator:
    """At least three of: upper case, lower case, digits, symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        classes = [
            re.search(r"[A-Z]", password),
            re.search(r"[a-z]", password),
            re.search(r"\d", password),
            re.search(r"[^A-Za-z0-9]", password),
        ]
        if sum(1 for c in classes if c) < self.min_classes:
            raise ValidationError(
                _("密码须包含大写字母、小写字母、数字、符号中的至少三类。"), code="password_classes"
            )

    def get_help_text(self):
        return _("至少 8 位，包含大写字母、小写字母、数字、符号中的至少三类。")


class PersonalInfoValidator:
    """The password must not contain the ID number, the mobile number or the name.

    Works on a saved user and on an unsaved one built for registration, which
    carries the plain number in `_plain_id_number` (never stored).
    """

    def validate(self, password, user=None):
        if user is None:
            return
        lowered = password.lower()
        id_number = getattr(user, "_plain_id_number", "") or (
            user.id_number if getattr(user, "id_number_encrypted", "") else ""
        )
        mobile = str(getattr(user, "mobile", "") or "")
        national_mobile = re.sub(r"\D", "", mobile)[-11:]
        checks = [
            (id_number, _("密码不能包含证件号码。")),
            (id_number[-8:] if len(id_number) >= 15 else "", _("密码不能包含证件号码。")),
            (national_mobile, _("密码不能包含手机号码。")),
            (getattr(user, "name", "") or "", _("密码不能包含姓名。")),
        ]
        for value, message in checks:
            if value and len(value) >= 2 and value.lower() in lowered:
                raise ValidationError(message, code="password_personal_info")

    def get_help_text(self):
        return _("不能包含证件号码、手机号码或姓名。")
