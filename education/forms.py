"""Forms of 继续教育."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.images import DOCUMENT, clean_image

from . import claims
from .credits import MAX_RECORD_CREDITS
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


# --- 学分确认申请 -------------------------------------------------------------------------


class ActivityRadioSelect(forms.RadioSelect):
    """Each choice carries the credits the conversion table gives (shown without JavaScript)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        row = claims.ACTIVITIES.get(str(value))
        option["rule_text"] = row.rule_text if row else ""
        return option


class ClaimForm(forms.Form):
    """我要申请: 年度, 活动类型 (with its credits), 天数 for a conference, 活动说明, 证明材料."""

    year = forms.TypedChoiceField(label=_("年度"), coerce=int)
    activity = forms.ChoiceField(label=_("活动类型"), widget=ActivityRadioSelect)
    days = forms.IntegerField(
        label=_("会议天数"), required=False, min_value=1, max_value=claims.MAX_CONFERENCE_DAYS,
        help_text=_("仅“参加会计类专业会议”填写，每天 10 学分。"),
    )
    details = forms.CharField(
        label=_("活动说明"), max_length=1000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("如考试名称与科目、会议名称、课题或论文题目、刊物或出版社等。"),
    )
    evidence = forms.FileField(
        label=_("证明材料"), help_text=_("JPG 或 PNG 图片，不超过 5 MB（如成绩截图、证书、刊物页面）。"),
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, _("%(year)s年") % {"year": y}) for y in selectable_years()]
        self.fields["activity"].choices = claims.activity_choices()

    def clean_evidence(self):
        return clean_image(self.cleaned_data["evidence"], rule=DOCUMENT)

    def clean(self):
        data = super().clean()
        activity = data.get("activity")
        if activity:
            days = data.get("days")
            if not claims.ACTIVITIES[activity].per_day:
                data["days"] = None
            elif days is None and "days" not in self.errors:
                self.add_error("days", _("请填写会议天数。"))
        return data


class ClaimReviewForm(forms.Form):
    """The reviewer's 认定学分 (其他形式 only) or 未通过原因."""

    credits = forms.DecimalField(label=_("认定学分"), required=False, min_value=Decimal("0.1"),
                                 max_value=MAX_RECORD_CREDITS, decimal_places=1)
    reason = forms.CharField(label=_("未通过原因"), required=False, max_length=claims.MAX_REASON_LENGTH,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ClaimBulkRejectForm(forms.Form):
    """批量不通过: one reason for every selected claim."""

    reason = forms.CharField(label=_("未通过原因"), max_length=claims.MAX_REASON_LENGTH,
                             widget=forms.Textarea(attrs={"rows": 3}))
