"""Staff back office: management units and the scope every admin with personal data applies.

A staff user sees the people of their management unit only: 省 (everyone), 省本级
(people registered at 520000), a prefecture (itself and its counties) or a county.
A staff user without a unit sees nobody; only a superuser (never used day to day)
sees everything. `scope_q` is the one place that turns a unit into a filter; the
admin mixins below apply it to get_queryset, so lists, pages, search, actions and
exports are all limited, and an object outside the scope is a 404.
"""

from __future__ import annotations

import re

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from collection.models import PROVINCIAL_LEVEL_CODE, Division, DivisionLevel
from portal.errors import PortalError

from .identity import id_lookup_hash, normalize_id_number
from .models import StaffProfile, StaffUnitKind, User

NOTHING = Q(pk__in=[])
_ID_LIKE = re.compile(r"^[0-9A-Za-z]{8,20}$")


class UnknownUnit(PortalError):
    """The management unit named is not 省, 省本级 or a Guizhou division code."""


def staff_profile_of(user) -> StaffProfile | None:
    """The user's management unit, or None (anonymous, accountant, staff without a unit)."""
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return None
    try:
        return user.staff_profile
    except StaffProfile.DoesNotExist:
        return None


def sees_everyone(user) -> bool:
    """True for a superuser and for a staff user of the 省 unit."""
    if not getattr(user, "is_active", False) or not getattr(user, "is_staff", False):
        return False
    if user.is_superuser:
        return True
    profile = staff_profile_of(user)
    return profile is not None and profile.unit_kind == StaffUnitKind.PROVINCE


def scope_q(user, *, field: str) -> Q:
    """The filter on `field` (a path to collection.Division, e.g. "user__archive__division")
    that limits a queryset to the people `user` may see."""
    if not getattr(user, "is_active", False) or not getattr(user, "is_staff", False):
        return NOTHING
    if user.is_superuser:
        return Q()
    profile = staff_profile_of(user)
    if profile is None:
        return NOTHING
    if profile.unit_kind == StaffUnitKind.PROVINCE:
        return Q()
    if profile.unit_kind == StaffUnitKind.PROVINCIAL:
        return Q(**{f"{field}__code": PROVINCIAL_LEVEL_CODE})
    division = profile.division
    if division is None:
        return NOTHING
    if division.level == DivisionLevel.PREFECTURE:
        return Q(**{field: division}) | Q(**{f"{field}__parent": division})
    return Q(**{field: division})


def allowed_divisions(user) -> QuerySet[Division]:
    """The divisions a staff user's list filters offer."""
    return Division.objects.filter(_division_self_q(user))


def _division_self_q(user) -> Q:
    # scope_q on Division itself (the field path would be empty): the same cases.
    if sees_everyone(user):
        return Q()
    profile = staff_profile_of(user)
    if profile is None or not user.is_staff or not user.is_active:
        return NOTHING
    if profile.unit_kind == StaffUnitKind.PROVINCIAL:
        return Q(code=PROVINCIAL_LEVEL_CODE)
    if profile.division is None:
        return NOTHING
    if profile.division.level == DivisionLevel.PREFECTURE:
        return Q(pk=profile.division_id) | Q(parent=profile.division_id)
    return Q(pk=profile.division_id)


def unit_resolve(unit: str) -> tuple[str, Division | None]:
    """`province` / `provincial` / a division code → (unit kind, division)."""
    value = (unit or "").strip()
    if value.lower() in {"province", "省"}:
        return StaffUnitKind.PROVINCE, None
    if value.lower() in {"provincial", "省本级", PROVINCIAL_LEVEL_CODE}:
        return StaffUnitKind.PROVINCIAL, None
    division = Division.objects.filter(code=value).exclude(level=DivisionLevel.PROVINCE).first()
    if division is None:
        raise UnknownUnit(
            _("未知的管理单位：%(unit)s（可用 province、provincial 或市县区划代码）") % {"unit": value},
            code="unknown_unit",
        )
    return StaffUnitKind.DIVISION, division


def id_number_search_q(term: str, *, field: str) -> Q | None:
    """Exact match of a full ID number through its keyed hash (never a LIKE on the number)."""
    term = (term or "").strip()
    if not _ID_LIKE.match(term):
        return None
    return Q(**{field: id_lookup_hash(normalize_id_number(term))})


# --- admin mixins -------------------------------------------------------------------------------


class ScopedAdminMixin:
    """Limit a ModelAdmin to the staff user's scope; out-of-scope objects are a 404.

    `scope_field` is the path from the model to the person's archive division.
    `id_hash_field` (optional) lets the search box find a full ID number exactly.
    """

    scope_field = "user__archive__division"
    id_hash_field: str | None = "user__id_hash"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(scope_q(request.user, field=self.scope_field))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404(_("对象不存在或不在您的管理范围内。"))
        return obj

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if self.id_hash_field:
            by_id = id_number_search_q(search_term, field=self.id_hash_field)
            if by_id is not None:
                # A full ID number matches exactly through the keyed hash, in addition
                # to whatever the plain search fields (name, mobile, ...) match.
                results = results | queryset.filter(by_id)
        return results, may_have_duplicates

    def scoped_or_404(self, request, pk):
        """The object `pk` if it is in the scope (for custom admin views), else 404."""
        obj = self.get_queryset(request).filter(pk=pk).first() if str(pk).isdigit() else None
        if obj is None:
            raise Http404
        return obj


def person_of(obj) -> User | None:
    """The person an admin object belongs to (for the audit log's masked person)."""
    if isinstance(obj, User):
        return obj
    return getattr(obj, "user", None)
