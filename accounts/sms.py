"""SMS verification codes and the SMS outbox.

Codes: 6 digits from `secrets`, stored only as a keyed hash, bound to (mobile,
purpose), valid SMS_CODE_TTL_SECONDS, single use, dead after
SMS_CODE_MAX_FAILURES wrong tries. A new code asked for while the previous one
is still valid inherits its failure count, so asking again does not buy more
guesses. Limits: one code per mobile per SMS_RESEND_SECONDS, at most
SMS_DAILY_LIMIT_PER_PHONE per mobile per calendar day (Asia/Shanghai), and
SMS_HOURLY_LIMIT_PER_IP per client address per hour.

Messages: every SMS is first an `SmsMessage` row written in the business
transaction; `accounts.tasks.sms_send` is queued on commit and sends it through
the configured backend, holding the row lock so that it is sent once; a
periodic sweep queues rows left pending (broker down, worker killed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import time

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber, to_python

from portal.errors import PortalError
from portal.tasks import enqueue_on_commit

from .models import SmsCode, SmsMessage, SmsPurpose, SmsStatus, Throttle

logger = logging.getLogger(__name__)

CODE_LENGTH = 6


class SmsRefused(PortalError):
    """A code was not issued (rate limit); `retry_after` says when to try again."""


class SmsCodeInvalid(PortalError):
    """The code typed does not verify."""


class SmsGatewayError(Exception):
    """The gateway did not accept a message; the send is retried."""


# --- keyed hashes ----------------------------------------------------------------------


def _keyed_hash(*parts: str) -> str:
    msg = "\x1f".join(parts).encode()
    return hmac.new(settings.SECRET_KEY.encode(), msg, hashlib.sha256).hexdigest()


def _code_hash(mobile: str, purpose: str, code: str) -> str:
    return _keyed_hash("sms-code", mobile, purpose, code)


def _e164(mobile: PhoneNumber | str) -> str:
    """The mobile as the database stores it, however the caller wrote it, so that
    code hashes and throttle keys agree with the rows (`139...` is `+86139...`)."""
    if isinstance(mobile, PhoneNumber):
        return mobile.as_e164
    parsed = to_python(str(mobile), region="CN")
    return parsed.as_e164 if isinstance(parsed, PhoneNumber) and parsed.is_valid() else str(mobile)


# --- throttles ---------------------------------------------------------------------------


def _throttle_row(key: str, now: dt.datetime) -> Throttle:
    """The throttle row for `key`, locked for this transaction."""
    Throttle.objects.get_or_create(key=key, defaults={"window_start": now, "hits": 0})
    return Throttle.objects.select_for_update().get(key=key)


def throttle_hit(
    *, key: str, limit: int, window_seconds: int, now: dt.datetime | None = None, count_only: bool = False
) -> int:
    """Count one hit against `key`; return 0 if allowed, else seconds until allowed.
    With count_only, only look: nothing is counted.

    Must run inside a transaction (the row lock serialises concurrent hits).
    """
    now = now or timezone.now()
    row = _throttle_row(key, now)
    elapsed = (now - row.window_start).total_seconds()
    if elapsed >= window_seconds or elapsed < 0:
        row.window_start, row.hits = now, 0
    if row.hits >= limit:
        return max(1, math.ceil(window_seconds - elapsed))
    if count_only:
        return 0
    row.hits += 1
    row.save(update_fields=["window_start", "hits"])
    return 0


def ip_throttle_key(ip: str) -> str:
    return "sms-ip:" + _keyed_hash("ip", ip)[:40]


def _format_wait(seconds: int) -> str:
    if seconds < 120:
        return _("%(n)d 秒") % {"n": seconds}
    if seconds < 3600:
        return _("%(n)d 分钟") % {"n": math.ceil(seconds / 60)}
    hours, rest = divmod(seconds, 3600)
    return _("%(h)d 小时 %(m)d 分钟") % {"h": hours, "m": math.ceil(rest / 60)}


def _local_midnight_after(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start + dt.timedelta(days=1)


def ip_hit(*, ip: str) -> None:
    """Count a code request against the client address; raise SmsRefused over the cap."""
    wait = throttle_hit(key=ip_throttle_key(ip), limit=settings.SMS_HOURLY_LIMIT_PER_IP, window_seconds=3600)
    if wait:
        raise SmsRefused(
            _("当前网络获取验证码过于频繁，请 %(wait)s后再试。") % {"wait": _format_wait(wait)},
            code="ip_limit",
            retry_after=wait,
        )


# --- codes -------------------------------------------------------------------------------


_PURPOSE_TEXT = {
    SmsPurpose.REGISTER: "用户注册",
    SmsPurpose.RESET: "找回密码",
    SmsPurpose.CHANGE_PHONE: "变更手机号码",
    SmsPurpose.TRANSFER_IN: "跨省调入",
}


@transaction.atomic
def sms_code_issue(*, mobile: PhoneNumber | str, purpose: str, ip: str, count_ip: bool = True) -> None:
    """Issue a code for (mobile, purpose) and queue its SMS, within the limits."""
    now = timezone.now()
    e164 = _e164(mobile)
    # Lock per mobile first: concurrent requests for one number are serialised.
    _throttle_row("sms-mobile:" + _keyed_hash("mobile", e164)[:40], now)
    latest_any = SmsCode.objects.filter(mobile=e164).order_by("-created_at").first()
    if latest_any is not None:
        since = (now - latest_any.created_at).total_seconds()
        if since < settings.SMS_RESEND_SECONDS:
            wait = max(1, math.ceil(settings.SMS_RESEND_SECONDS - since))
            raise SmsRefused(
                _("验证码已发送，请 %(n)d 秒后再重新获取。") % {"n": wait}, code="resend", retry_after=wait
            )
    midnight = _local_midnight_after(now)
    today_count = SmsCode.objects.filter(mobile=e164, created_at__gte=midnight - dt.timedelta(days=1)).count()
    if today_count >= settings.SMS_DAILY_LIMIT_PER_PHONE:
        wait = math.ceil((midnight - now).total_seconds())
        raise SmsRefused(
            _("该手机号今日获取验证码次数已达上限，请 %(wait)s后再试。") % {"wait": _format_wait(wait)},
            code="daily_limit",
            retry_after=wait,
        )
    if count_ip:
        ip_hit(ip=ip)

    # Only the newest code of (mobile, purpose) counts; once it has been used,
    # older unused codes are dead and their failures no longer matter.
    previous = SmsCode.objects.filter(mobile=e164, purpose=purpose).order_by("-created_at").first()
    live = previous is not None and previous.used_at is None and previous.expires_at > now
    inherited = previous.failures if live else 0
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_LENGTH))
    SmsCode.objects.create(
        mobile=e164,
        purpose=purpose,
        code_hash=_code_hash(e164, purpose, code),
        created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.SMS_CODE_TTL_SECONDS),
        failures=inherited,
    )
    minutes = max(1, settings.SMS_CODE_TTL_SECONDS // 60)
    sms_message_queue(
        mobile=e164,
        body=f"验证码{code}，用于{_PURPOSE_TEXT.get(purpose, '身份验证')}，{minutes}分钟内有效。"
        "如非本人操作，请忽略本短信，切勿将验证码告诉他人。",
    )


def sms_code_verify(*, mobile: PhoneNumber | str, purpose: str, code: str) -> SmsCode:
    """Check a typed code against the latest live code; count a wrong try.

    Returns the code row (not yet consumed: call `sms_code_consume` inside the
    business transaction). A wrong try is committed even when the caller's
    later work fails, so guessing is always counted.
    """
    e164 = _e164(mobile)
    code = (code or "").strip()
    with transaction.atomic():
        # The newest code only: a used code must not bring an older one back to life.
        row = SmsCode.objects.select_for_update().filter(mobile=e164, purpose=purpose).order_by("-created_at").first()
        error = None
        if row is None:
            error = SmsCodeInvalid(_("请先获取短信验证码。"), code="missing")
        elif row.used_at is not None:
            error = SmsCodeInvalid(_("短信验证码已使用，请重新获取。"), code="used")
        elif row.expires_at <= timezone.now():
            error = SmsCodeInvalid(_("短信验证码已过期，请重新获取。"), code="expired")
        elif row.failures >= settings.SMS_CODE_MAX_FAILURES:
            error = SmsCodeInvalid(_("短信验证码错误次数过多，请稍后重新获取。"), code="too_many")
        elif not re.fullmatch(r"\d{6}", code) or not hmac.compare_digest(
            row.code_hash, _code_hash(e164, purpose, code)
        ):
            row.failures += 1
            row.save(update_fields=["failures"])
            left = settings.SMS_CODE_MAX_FAILURES - row.failures
            error = SmsCodeInvalid(
                _("短信验证码不正确，还可尝试 %(n)d 次。") % {"n": left}
                if left > 0
                else _("短信验证码错误次数过多，请稍后重新获取。"),
                code="wrong",
            )
    if error is not None:
        raise error
    return row


def sms_code_consume(*, code: SmsCode) -> None:
    """Mark a verified code used; a code is good for one success only."""
    updated = SmsCode.objects.filter(pk=code.pk, used_at__isnull=True).update(used_at=timezone.now())
    if updated != 1:
        raise SmsCodeInvalid(_("短信验证码已使用，请重新获取。"), code="used")


# --- outbox and sending ------------------------------------------------------------------


def sms_message_queue(*, mobile: PhoneNumber | str, body: str) -> SmsMessage:
    """Write an SMS to the outbox and queue its sending after commit."""
    from .tasks import sms_send

    message = SmsMessage.objects.create(mobile=_e164(mobile), body=settings.SMS_SIGNATURE + body)
    enqueue_on_commit(sms_send, message.pk)
    return message


class OutboxBackend:
    """Development backend: the message stays in the database (admin, `sms_outbox`)."""

    keeps_body = True

    def send(self, message: SmsMessage) -> str:
        return f"outbox-{message.pk}"


class HttpBackend:
    """A JSON-over-HTTPS gateway. The message id is the idempotency key, so a
    retry after an unrecorded success is not delivered twice by the gateway."""

    keeps_body = False

    def __init__(self, *, url: str, key_id: str, secret: str, timeout: float):
        self.url, self.key_id, self.secret, self.timeout = url, key_id, secret, timeout

    def send(self, message: SmsMessage) -> str:
        payload = json.dumps(
            {"to": str(message.mobile), "content": message.body, "client_ref": f"sms-{message.pk}"},
            ensure_ascii=False,
        ).encode()
        ts = str(int(time.time()))
        signature = hmac.new(self.secret.encode(), ts.encode() + b"." + payload, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Key-Id": self.key_id,
            "X-Timestamp": ts,
            "X-Signature": signature,
        }
        try:
            response = requests.post(self.url, data=payload, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise SmsGatewayError(f"gateway unreachable: {exc.__class__.__name__}") from exc
        if response.status_code >= 300:
            raise SmsGatewayError(f"gateway answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise SmsGatewayError("gateway answered with a body that is not JSON") from None
        if not data.get("ok"):
            raise SmsGatewayError(f"gateway refused: {str(data.get('error', ''))[:200]}")
        return str(data.get("message_id", ""))[:100]


def get_backend():
    if settings.SMS_BACKEND == "http":
        return HttpBackend(
            url=settings.SMS_HTTP_URL,
            key_id=settings.SMS_HTTP_KEY_ID,
            secret=settings.SMS_HTTP_SECRET,
            timeout=settings.SMS_HTTP_TIMEOUT,
        )
    if settings.SMS_BACKEND == "outbox":
        return OutboxBackend()
    raise ValueError(f"unknown SMS_BACKEND {settings.SMS_BACKEND!r}")


_CODE_IN_BODY = re.compile(r"验证码\d{6}")


def sms_message_send(*, message_id: int) -> bool:
    """Send one outbox row if still pending; True if this call sent it.

    The row stays locked during the gateway call, so two workers given the same
    id cannot both send; a failure is recorded and re-raised for the retry.
    """
    backend = get_backend()
    failure: SmsGatewayError | None = None
    with transaction.atomic():
        message = SmsMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.status != SmsStatus.PENDING:
            return False
        message.attempts += 1
        try:
            gateway_id = backend.send(message)
        except SmsGatewayError as exc:
            failure = exc
            message.last_error = str(exc)[:500]
            if message.attempts >= settings.SMS_SEND_MAX_RETRIES:
                message.status = SmsStatus.FAILED
                logger.error("SMS %s failed for good after %s attempts", message.pk, message.attempts)
            message.save(update_fields=["attempts", "last_error", "status"])
        else:
            message.status = SmsStatus.SENT
            message.sent_at = timezone.now()
            message.gateway_message_id = gateway_id
            message.last_error = ""
            if not backend.keeps_body:
                # Once delivered, the code has no business staying in our database.
                message.body = _CODE_IN_BODY.sub("验证码******", message.body)
            message.save()
    if failure is not None:
        raise failure
    return True


def sms_outbox_sweep(*, older_than_seconds: int = 30) -> int:
    """Queue every pending message older than the threshold; return how many."""
    from .tasks import sms_send

    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        SmsMessage.objects.filter(status=SmsStatus.PENDING, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:1000]
    )
    queued = 0
    for pk in ids:
        try:
            sms_send.apply_async(args=(pk,))
            queued += 1
        except Exception:
            logger.warning("sweep could not queue SMS %s; broker still down?", pk, exc_info=True)
            break
    return queued
