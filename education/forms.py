"""Forms of 继续教育."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Institution
from .selectors import selectable_years


class YearForm(forms.Form):
    """远程教育: choose 年度, 查询 (a GET form)."""

    year = forms.TypedChoiceField(label=_("年度"), coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, _("%(year)s年") % {"year": y}) for y in selectable_years()]


class EnrolForm(forms.Form):
    """报名: the institution and year, posted from the list."""

    institution = forms.ModelChoiceField(queryset=Institution.objects.filter(is_active=True))
    year = forms.TypedChoiceField(coerce=int)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, y) for y in selectable_years()]
