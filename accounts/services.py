"""Account state changes: registration, sessions, password reset.

Every function here is the one place its rule lives; views call them and turn
`PortalError` into a message for the person.
"""

from __future__ import annotations

import logging
from importlib import import_module

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber

from portal.errors import PortalError

from . import sms
from .identity import (
    encrypt_id_number,
    id_lookup_hash,
    login_username,
    mask_id_number,
    validate_id_number,
)
from .models import SmsPurpose, User, UserSession

logger = logging.getLogger(__name__)


class AccountExists(PortalError):
    """The ID number or the mobile number already belongs to an account."""


def _id_taken_message() -> str:
    return _("该证件号码已注册。如忘记密码，请使用“忘记密码”找回；否则请直接“登录”。")


def _mobile_taken_message() -> str:
    return _("该手机号码已绑定其他账号。如是您本人的账号，请直接“登录”或使用“忘记密码”找回。")


def user_get_by_id_number(*, id_number: str) -> User | None:
    return User.objects.filter(id_hash=id_lookup_hash(id_number)).first()


def mobile_is_bound(*, mobile: PhoneNumber | str) -> bool:
    return User.objects.filter(mobile=str(mobile.as_e164 if isinstance(mobile, PhoneNumber) else mobile)).exists()


def registration_code_request(*, mobile: PhoneNumber, ip: str) -> None:
    """Send a registration code, unless the mobile already binds an account."""
    if mobile_is_bound(mobile=mobile):
        raise AccountExists(_mobile_taken_message(), code="mobile_taken")
    sms.sms_code_issue(mobile=mobile, purpose=SmsPurpose.REGISTER, ip=ip)


def mobile_change_code_request(*, user: User, mobile: PhoneNumber, ip: str) -> None:
    """Send a code to the NEW mobile of a logged-in person (信息变更 → 联系方式)."""
    if user.mobile == mobile:
        raise PortalError(_("新手机号码与当前手机号码相同。"), code="same_mobile")
    if mobile_is_bound(mobile=mobile):
        raise AccountExists(_("该手机号码已绑定其他账号，请更换。"), code="mobile_taken")
    sms.sms_code_issue(mobile=mobile, purpose=SmsPurpose.CHANGE_PHONE, ip=ip)


def password_check(*, user: User, password: str) -> None:
    """Confirm the current password for a sensitive change; 5 wrong tries an hour, then refused."""
    with transaction.atomic():
        wait = sms.throttle_hit(key=f"password-check:{user.pk}", limit=5, window_seconds=3600, count_only=True)
    if wait:
        raise PortalError(_("密码错误次数过多，请 %(m)d 分钟后再试。") % {"m": max(1, wait // 60)}, code="locked")
    if not user.check_password(password):
        with transaction.atomic():
            sms.throttle_hit(key=f"password-check:{user.pk}", limit=5, window_seconds=3600)
        raise PortalError(_("当前登录密码不正确。"), code="password")


def account_register(
    *,
    name: str,
    id_type: str,
    id_number: str,
    password: str,
    mobile: PhoneNumber,
    sms_code: str,
    works_in_guizhou: bool,
    holds_qualification: bool,
) -> User:
    """Create an accountant's account after the SMS code verifies.

    The password has been checked against the policy by the form. Two
    simultaneous registrations of one ID number end with one account: the
    unique constraint decides, the loser gets AccountExists.
    """
    facts = validate_id_number(id_type, id_number)
    if mobile_is_bound(mobile=mobile):
        raise AccountExists(_mobile_taken_message(), code="mobile_taken")
    # The code is checked before saying whether the ID is registered, and a
    # code spent on a registered ID is used up: probing IDs costs one SMS each.
    code = sms.sms_code_verify(mobile=mobile, purpose=SmsPurpose.REGISTER, code=sms_code)
    if User.objects.filter(id_hash=id_lookup_hash(facts.number)).exists():
        sms.sms_code_consume(code=code)
        raise AccountExists(_id_taken_message(), code="id_taken")
    with transaction.atomic():
        sms.sms_code_consume(code=code)
        return account_create(
            name=name,
            id_type=id_type,
            id_number=facts.number,
            password=password,
            mobile=mobile,
            works_in_guizhou=works_in_guizhou,
            holds_qualification=holds_qualification,
        )


def account_create(
    *,
    name: str,
    id_type: str,
    id_number: str,
    password: str,
    mobile: PhoneNumber | str,
    works_in_guizhou: bool | None = None,
    holds_qualification: bool | None = None,
) -> User:
    """Create an accountant's account (identity already verified by the caller)."""
    facts = validate_id_number(id_type, id_number)
    id_hash = id_lookup_hash(facts.number)
    try:
        with transaction.atomic():
            user = User(
                username=login_username(facts.number),
                name=name.strip(),
                id_type=id_type,
                id_number_encrypted=encrypt_id_number(facts.number),
                id_hash=id_hash,
                id_number_masked=mask_id_number(facts.number),
                gender=facts.gender or "",
                birth_date=facts.birth_date,
                mobile=mobile,
                works_in_guizhou=works_in_guizhou,
                holds_qualification=holds_qualification,
            )
            user.set_password(password)
            user.save()
    except IntegrityError:
        # Lost a race to a simultaneous registration of the same ID or mobile.
        if User.objects.filter(id_hash=id_hash).exists():
            raise AccountExists(_id_taken_message(), code="id_taken") from None
        raise AccountExists(_mobile_taken_message(), code="mobile_taken") from None
    logger.info("account registered: user %s (%s)", user.pk, user.id_number_masked)
    return user


# --- sessions -----------------------------------------------------------------------------


def session_login(*, request: HttpRequest, user: User) -> None:
    """Log in (Django rotates the session key) and remember the session."""
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if request.session.session_key is None:
        request.session.save()
    UserSession.objects.update_or_create(session_key=request.session.session_key, defaults={"user": user})


def session_logout(*, request: HttpRequest) -> None:
    """End this session server-side."""
    key = request.session.session_key
    logout(request)  # flushes the session from the store
    if key:
        UserSession.objects.filter(session_key=key).delete()


def user_sessions_end(*, user: User) -> int:
    """End every session of the account, whatever the session backend."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    UserSession.objects.filter(user=user, session_key__in=keys).delete()
    return len(keys)


def user_sessions_prune() -> int:
    """Drop records of sessions that no longer exist in the store."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    gone = [s.pk for s in UserSession.objects.only("pk", "session_key").iterator() if not store().exists(s.session_key)]
    UserSession.objects.filter(pk__in=gone).delete()
    return len(gone)


# --- password reset -------------------------------------------------------------------------


def _user_matching(*, name: str, id_number: str, mobile: PhoneNumber) -> User | None:
    user = user_get_by_id_number(id_number=id_number)
    if user is None or not user.is_active or user.name != name.strip() or user.mobile != mobile:
        return None
    return user


def password_reset_code_request(*, name: str, id_number: str, mobile: PhoneNumber, ip: str) -> None:
    """Send a reset code only if name, ID and mobile match one account.

    The caller answers the same either way. The per-address limit and the
    60-second wait count whether or not they matched, so limits reveal nothing.
    """
    with transaction.atomic():
        sms.ip_hit(ip=ip)
        wait = sms.throttle_hit(
            key="reset-mobile:" + id_lookup_hash(str(mobile))[:40],
            limit=1,
            window_seconds=settings.SMS_RESEND_SECONDS,
        )
    if wait:
        raise sms.SmsRefused(
            _("验证码已发送，请 %(n)d 秒后再重新获取。") % {"n": wait}, code="resend", retry_after=wait
        )
    user = _user_matching(name=name, id_number=id_number, mobile=mobile)
    if user is None:
        logger.info("password reset code asked for details that match no account")
        return
    try:
        sms.sms_code_issue(mobile=mobile, purpose=SmsPurpose.RESET, ip=ip, count_ip=False)
    except sms.SmsRefused as exc:
        # Passing the refusal on would tell the caller that the details matched.
        logger.info("password reset code for a matching account refused by the SMS limits (%s)", exc.code)


def password_reset_verify(*, name: str, id_number: str, mobile: PhoneNumber, sms_code: str) -> tuple[User, str]:
    """Check step 1 of 忘记密码; return the user and a token for step 2."""
    user = _user_matching(name=name, id_number=id_number, mobile=mobile)
    if user is None:
        raise sms.SmsCodeInvalid(_("姓名、证件号码、手机号码与短信验证码不匹配，请核对后重试。"), code="mismatch")
    code = sms.sms_code_verify(mobile=mobile, purpose=SmsPurpose.RESET, code=sms_code)
    sms.sms_code_consume(code=code)
    return user, default_token_generator.make_token(user)


def password_reset_token_valid(*, user: User, token: str) -> bool:
    return default_token_generator.check_token(user, token)


@transaction.atomic
def password_reset_complete(*, user: User, token: str, new_password: str) -> None:
    """Set the new password, end every session, lift a lockout, tell the owner."""
    if not default_token_generator.check_token(user, token):
        raise PortalError(_("重置链接已失效，请重新验证身份。"), code="token")
    user.set_password(new_password)
    user.save(update_fields=["password"])
    transaction.on_commit(lambda: user_sessions_end(user=user))
    AxesProxyHandler.reset_attempts(username=user.username)
    sms.sms_message_queue(
        mobile=user.mobile,
        body="您的贵州省财政会计网账号密码已重置。如非本人操作，请立即通过“忘记密码”重置并联系当地财政部门。",
    )
    logger.info("password reset for user %s", user.pk)
