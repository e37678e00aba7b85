"""继续教育's state changes: institutions and their filings, 报名, 点击查看
tokens and their exchange, API keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from collection.models import Archive, ArchiveStatus
from portal.errors import PortalError
from transfers.business import business_refusal

from .api_auth import encrypt_secret
from .models import Enrolment, Institution, InstitutionApiKey, InstitutionFiling, LaunchToken

logger = logging.getLogger(__name__)


class EducationError(PortalError):
    """A continuing-education rule refused the operation."""


class AlreadyEnrolled(EducationError):
    """报名 twice for the same year and institution."""


class TokenRefused(EducationError):
    """A launch token that cannot be exchanged (unknown, another institution's, used, expired)."""

    def __init__(self, message: str, *, code: str, status: int):
        super().__init__(message, code=code)
        self.status = status


# --- institutions --------------------------------------------------------------------


@dataclass(frozen=True)
class InstitutionSaved:
    institution: Institution
    created: bool
    changed: bool
    years_added: int


@transaction.atomic
def institution_save(
    *,
    code: str,
    name: str,
    platform_url: str,
    contact_name: str = "",
    contact_phone: str = "",
    years: Iterable[int] = (),
    is_active: bool = True,
) -> InstitutionSaved:
    """Create or update an institution by its code and add the years it is filed for.

    A filing is never withdrawn here (remove one in the admin): importing the same
    data again changes nothing.
    """
    values = {"name": name, "platform_url": platform_url, "contact_name": contact_name,
              "contact_phone": contact_phone, "is_active": is_active}
    institution = Institution.objects.select_for_update().filter(code=code).first()
    created = institution is None
    changed = False
    if created:
        institution = Institution.objects.create(code=code, **values)
    else:
        differing = [f for f, v in values.items() if getattr(institution, f) != v]
        if differing:
            for field in differing:
                setattr(institution, field, values[field])
            institution.save(update_fields=[*differing, "updated_at"])
            changed = True
    filed = set(institution.filings.values_list("year", flat=True))
    new_years = sorted(set(years) - filed)
    InstitutionFiling.objects.bulk_create([InstitutionFiling(institution=institution, year=y) for y in new_years])
    return InstitutionSaved(institution=institution, created=created, changed=changed, years_added=len(new_years))


# --- 报名 ----------------------------------------------------------------------------


def _collected(user: User) -> bool:
    return Archive.objects.filter(user=user, status=ArchiveStatus.COLLECTED).exists()


@transaction.atomic
def enrolment_create(*, user: User, institution: Institution, year: int) -> Enrolment:
    """报名: once per person, year and institution; only institutions filed for the year."""
    if not _collected(user):
        raise EducationError(_("请先完成信息采集。"), code="not_collected")
    refusal = business_refusal(user=user, action="enrol")
    if refusal:
        raise EducationError(refusal, code="transferred_out")
    if not institution.is_active or not institution.filings.filter(year=year).exists():
        raise EducationError(_("该机构未在%(year)s年度备案，不能报名。") % {"year": year}, code="not_filed")
    try:
        with transaction.atomic():
            enrolment = Enrolment.objects.create(user=user, institution=institution, year=year)
    except IntegrityError:
        raise AlreadyEnrolled(
            _("您已报名%(name)s的%(year)s年度课程。") % {"name": institution.name, "year": year},
            code="already_enrolled",
        ) from None
    logger.info("enrolment %s: user %s, institution %s, year %s", enrolment.pk, user.pk, institution.code, year)
    return enrolment


# --- 点击查看: the one-time token ------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def launch_token_issue(*, enrolment: Enrolment) -> str:
    """A fresh one-time token for 点击查看; only its hash is stored. Returns the token."""
    if not enrolment.institution.is_active:
        raise EducationError(_("该机构已停用，暂不能进入学习平台。"), code="inactive")
    refusal = business_refusal(user=enrolment.user, action="learn")
    if refusal:
        raise EducationError(refusal, code="transferred_out")
    now = timezone.now()
    LaunchToken.objects.filter(enrolment=enrolment, expires_at__lt=now).delete()
    token = secrets.token_urlsafe(32)
    LaunchToken.objects.create(
        enrolment=enrolment,
        token_hash=token_hash(token),
        expires_at=now + dt.timedelta(seconds=settings.CE_LAUNCH_TOKEN_TTL_SECONDS),
    )
    return token


@transaction.atomic
def launch_token_exchange(*, institution: Institution, token: str) -> Enrolment:
    """The institution trades a launch token for the enrolment, once.

    Another institution's token is answered as unknown and is not consumed.
    """
    row = (
        LaunchToken.objects.select_related("enrolment__user", "enrolment__institution")
        .filter(token_hash=token_hash(token), enrolment__institution=institution)
        .first()
    )
    if row is None:
        raise TokenRefused(_("令牌无效。"), code="token_invalid", status=404)
    now = timezone.now()
    # The conditional UPDATE is what makes the token single-use under concurrency.
    taken = LaunchToken.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
    if taken != 1:
        if row.used_at is not None or LaunchToken.objects.filter(pk=row.pk, used_at__isnull=False).exists():
            raise TokenRefused(_("令牌已使用，请让学员重新点击“点击查看”。"), code="token_used", status=409)
        raise TokenRefused(_("令牌已过期，请让学员重新点击“点击查看”。"), code="token_expired", status=410)
    logger.info("launch token %s exchanged by institution %s", row.pk, institution.code)
    return row.enrolment


# --- API keys ------------------------------------------------------------------------


@transaction.atomic
def institution_api_key_issue(*, institution: Institution) -> tuple[InstitutionApiKey, str]:
    """签发/轮换: a new key id and secret; the previous key stops working. Returns the
    key and the plain secret, which is shown once and never stored in clear."""
    Institution.objects.select_for_update().filter(pk=institution.pk).first()
    InstitutionApiKey.objects.filter(institution=institution, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    secret = secrets.token_urlsafe(32)
    key = InstitutionApiKey.objects.create(
        institution=institution,
        key_id=f"ce_{secrets.token_hex(10)}",
        secret_encrypted=encrypt_secret(secret),
    )
    logger.info("API key %s issued for institution %s", key.key_id, institution.code)
    return key, secret


@transaction.atomic
def institution_api_key_revoke(*, institution: Institution) -> int:
    """吊销: the institution's live key stops working. Returns how many were revoked."""
    revoked = InstitutionApiKey.objects.filter(institution=institution, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    logger.info("API keys revoked for institution %s: %s", institution.code, revoked)
    return revoked
