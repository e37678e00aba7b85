"""SMS verification codes (issue, verify, consume, limits) and the SMS outbox
with its two backends. The gateway is a real HTTP server on 127.0.0.1
(`tests.fakes.FakeSmsGateway`); nothing of ours is mocked.

Time is moved by rewriting the rows' timestamps, not by sleeping (the one
exception waits out the first ~75 s after local midnight, see _make_room_in_the_day).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time

import pytest
from django.db.models import F
from django.utils import timezone
from phonenumber_field.phonenumber import PhoneNumber

from accounts import sms
from accounts.models import SmsCode, SmsMessage, SmsPurpose, SmsStatus, Throttle
from accounts.tasks import sms_send
from portal.celery import app as celery_app
from tests.conftest import wait_for
from tests.factories import make_mobile
from tests.fakes import FakeSmsGateway

IP = "203.0.113.10"
OTHER_IP = "198.51.100.20"


# --- helpers -------------------------------------------------------------------------


def issue(mobile: str, purpose: str = SmsPurpose.REGISTER, ip: str = IP) -> str:
    """Issue a code through the service and read it from the SMS it queued."""
    sms.sms_code_issue(mobile=mobile, purpose=purpose, ip=ip)
    message = SmsMessage.objects.filter(mobile=mobile).order_by("-created_at", "-id").first()
    return re.search(r"验证码(\d{6})", message.body).group(1)


def use(mobile: str, code: str, purpose: str = SmsPurpose.REGISTER) -> None:
    """Verify and consume, as a service does on success."""
    row = sms.sms_code_verify(mobile=mobile, purpose=purpose, code=code)
    sms.sms_code_consume(code=row)


def refused(mobile: str, code: str, purpose: str = SmsPurpose.REGISTER) -> sms.SmsCodeInvalid:
    with pytest.raises(sms.SmsCodeInvalid) as info:
        use(mobile, code, purpose)
    return info.value


def refused_issue(mobile: str, purpose: str = SmsPurpose.REGISTER, ip: str = IP) -> sms.SmsRefused:
    with pytest.raises(sms.SmsRefused) as info:
        sms.sms_code_issue(mobile=mobile, purpose=purpose, ip=ip)
    return info.value


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def age(mobile: str, seconds: float, *, expiry_too: bool = False) -> None:
    """Pretend the mobile's codes were issued `seconds` earlier."""
    delta = dt.timedelta(seconds=seconds)
    changes = {"created_at": F("created_at") - delta}
    if expiry_too:
        changes["expires_at"] = F("expires_at") - delta
    SmsCode.objects.filter(mobile=mobile).update(**changes)


def local_midnight(now: dt.datetime) -> dt.datetime:
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


# --- issuing: the code and where it is kept -----------------------------------------------


def test_code_is_six_digits_sent_by_sms_and_stored_only_as_a_keyed_hash(db):
    mobile = make_mobile()

    code = issue(mobile)

    row = SmsCode.objects.get(mobile=mobile)
    message = SmsMessage.objects.get(mobile=mobile)
    assert re.fullmatch(r"\d{6}", code)
    assert message.body.startswith("【贵州省财政会计网】验证码" + code)
    assert "用户注册" in message.body
    assert "5分钟" in message.body
    assert message.status == SmsStatus.PENDING
    assert re.fullmatch(r"[0-9a-f]{64}", row.code_hash)
    assert row.code_hash != code
    assert row.code_hash != hashlib.sha256(code.encode()).hexdigest()  # keyed, not a bare digest
    assert all(code not in str(value) for value in SmsCode.objects.filter(pk=row.pk).values().get().values())
    assert row.purpose == SmsPurpose.REGISTER
    assert row.failures == 0
    assert row.used_at is None
    assert row.expires_at - row.created_at == dt.timedelta(seconds=300)


def test_the_code_hash_depends_on_the_secret_key(db, settings):
    mobile = make_mobile()
    code = issue(mobile)

    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789abcdef"

    assert refused(mobile, code).code == "wrong"


def test_codes_differ_between_requests(db):
    codes = {issue(make_mobile()) for _ in range(8)}

    assert len(codes) > 1


def test_purpose_text_is_in_the_sms(db):
    mobile = make_mobile()
    issue(mobile, SmsPurpose.CHANGE_PHONE)
    age(mobile, 61)
    issue(mobile, SmsPurpose.TRANSFER_IN)

    bodies = list(SmsMessage.objects.filter(mobile=mobile).values_list("body", flat=True))

    assert any("变更手机号码" in b for b in bodies)
    assert any("跨省调入" in b for b in bodies)


def test_sms_is_sent_through_the_task_after_commit(tasks_run):
    mobile = make_mobile()

    code = issue(mobile)

    message = SmsMessage.objects.get(mobile=mobile)
    wait_for(lambda: SmsMessage.objects.get(pk=message.pk).status == SmsStatus.SENT, message="the code SMS")
    message.refresh_from_db()
    assert code in message.body  # the outbox backend keeps the body
    assert message.attempts == 1
    use(mobile, code)


# --- verifying -----------------------------------------------------------------------------


def test_right_code_verifies_once(db):
    mobile = make_mobile()
    code = issue(mobile)

    row = sms.sms_code_verify(mobile=mobile, purpose=SmsPurpose.REGISTER, code=f" {code} ")
    sms.sms_code_consume(code=row)

    assert SmsCode.objects.get(pk=row.pk).used_at is not None
    assert refused(mobile, code).code == "used"


def test_consuming_the_same_verified_code_twice_is_refused(db):
    mobile = make_mobile()
    code = issue(mobile)
    row = sms.sms_code_verify(mobile=mobile, purpose=SmsPurpose.REGISTER, code=code)
    again = sms.sms_code_verify(mobile=mobile, purpose=SmsPurpose.REGISTER, code=code)

    sms.sms_code_consume(code=row)

    with pytest.raises(sms.SmsCodeInvalid) as info:
        sms.sms_code_consume(code=again)
    assert info.value.code == "used"


def test_code_is_bound_to_its_purpose(db):
    mobile = make_mobile()
    code = issue(mobile, SmsPurpose.REGISTER)

    assert refused(mobile, code, SmsPurpose.RESET).code == "missing"

    age(mobile, 61)
    reset_code = issue(mobile, SmsPurpose.RESET)
    if reset_code != code:
        assert refused(mobile, code, SmsPurpose.RESET).code == "wrong"
    use(mobile, code, SmsPurpose.REGISTER)
    use(mobile, reset_code, SmsPurpose.RESET)


def test_the_hash_itself_binds_mobile_and_purpose(db):
    mobile = make_mobile()
    code = issue(mobile)

    # Re-labelling the row (a bug elsewhere, a hand edit) must not make the code good for reset.
    SmsCode.objects.filter(mobile=mobile).update(purpose=SmsPurpose.RESET)

    assert refused(mobile, code, SmsPurpose.RESET).code == "wrong"


def test_code_is_bound_to_its_mobile(db):
    mobile, other = make_mobile(), make_mobile()
    code = issue(mobile)

    assert refused(other, code).code == "missing"
    use(mobile, code)


def test_mobile_may_be_given_as_phone_number_or_e164_text(db):
    mobile = make_mobile()
    code = issue(mobile)

    use(PhoneNumber.from_string(mobile), code)


def test_mobile_in_national_format_is_the_same_mobile(db):
    mobile = make_mobile()
    national = mobile.removeprefix("+86")
    sms.sms_code_issue(mobile=national, purpose=SmsPurpose.REGISTER, ip=IP)
    code = re.search(r"验证码(\d{6})", SmsMessage.objects.get().body).group(1)

    assert refused_issue(mobile).code == "resend"
    use(PhoneNumber.from_string(mobile), code)


def test_code_expires_after_five_minutes(db):
    mobile = make_mobile()
    code = issue(mobile)

    age(mobile, 290, expiry_too=True)  # a few seconds of slack for a slow machine
    row = sms.sms_code_verify(mobile=mobile, purpose=SmsPurpose.REGISTER, code=code)
    assert row.pk

    age(mobile, 11, expiry_too=True)
    error = refused(mobile, code)
    assert error.code == "expired"
    assert "过期" in error.message


def test_ttl_follows_the_setting(db, settings):
    settings.SMS_CODE_TTL_SECONDS = 120
    mobile = make_mobile()
    code = issue(mobile)

    row = SmsCode.objects.get(mobile=mobile)
    assert row.expires_at - row.created_at == dt.timedelta(seconds=120)
    assert "2分钟" in SmsMessage.objects.get(mobile=mobile).body
    age(mobile, 121, expiry_too=True)
    assert refused(mobile, code).code == "expired"


def test_five_wrong_tries_kill_the_code(db):
    mobile = make_mobile()
    code = issue(mobile)
    wrong = other_code(code)

    messages = [refused(mobile, wrong).message for _ in range(5)]

    assert "还可尝试 4 次" in messages[0]
    assert "还可尝试 1 次" in messages[3]
    assert "过多" in messages[4]
    assert SmsCode.objects.get(mobile=mobile).failures == 5
    error = refused(mobile, code)
    assert error.code == "too_many"
    assert SmsCode.objects.get(mobile=mobile).used_at is None


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef", "12 345"])
def test_malformed_input_counts_as_a_wrong_try(db, typed):
    mobile = make_mobile()
    issue(mobile)

    assert refused(mobile, typed).code == "wrong"
    assert SmsCode.objects.get(mobile=mobile).failures == 1


def test_a_new_code_inherits_the_failures_of_the_live_one(db):
    mobile = make_mobile()
    first = issue(mobile)
    for _ in range(3):
        refused(mobile, other_code(first))
    age(mobile, 61)

    second = issue(mobile)

    assert SmsCode.objects.filter(mobile=mobile).order_by("-created_at").first().failures == 3
    refused(mobile, other_code(second))
    refused(mobile, other_code(second))
    assert refused(mobile, second).code == "too_many"


def test_asking_again_after_five_failures_does_not_buy_more_guesses(db):
    mobile = make_mobile()
    first = issue(mobile)
    for _ in range(5):
        refused(mobile, other_code(first))
    age(mobile, 61)

    second = issue(mobile)

    assert refused(mobile, second).code == "too_many"


def test_inheritance_is_per_purpose(db):
    mobile = make_mobile()
    first = issue(mobile, SmsPurpose.REGISTER)
    for _ in range(5):
        refused(mobile, other_code(first))
    age(mobile, 61)

    reset_code = issue(mobile, SmsPurpose.RESET)

    use(mobile, reset_code, SmsPurpose.RESET)


def test_only_the_newest_code_counts(db):
    mobile = make_mobile()
    first = issue(mobile)
    age(mobile, 61)
    second = issue(mobile)

    if first != second:
        assert refused(mobile, first).code == "wrong"
    use(mobile, second)
    # A superseded code stays dead after the newer one is used.
    assert refused(mobile, first).code == "used"


def test_after_a_success_the_next_code_starts_with_no_failures(db):
    mobile = make_mobile()
    first = issue(mobile)
    for _ in range(2):
        refused(mobile, other_code(first))
    age(mobile, 61)
    second = issue(mobile)
    use(mobile, second)
    age(mobile, 61)

    issue(mobile)

    assert SmsCode.objects.filter(mobile=mobile).order_by("-created_at").first().failures == 0


# --- limits -------------------------------------------------------------------------------


def test_second_code_within_sixty_seconds_is_refused_with_the_wait(db):
    mobile = make_mobile()
    issue(mobile)

    error = refused_issue(mobile)

    assert error.code == "resend"
    assert 1 <= error.retry_after <= 60
    assert "秒" in error.message
    assert f"{error.retry_after} 秒" in error.message
    assert SmsCode.objects.filter(mobile=mobile).count() == 1
    assert SmsMessage.objects.filter(mobile=mobile).count() == 1


def test_resend_wait_counts_down_and_covers_every_purpose(db):
    mobile = make_mobile()
    issue(mobile, SmsPurpose.REGISTER)
    age(mobile, 45)

    error = refused_issue(mobile, SmsPurpose.RESET)

    assert 10 <= error.retry_after <= 15  # 15 s left, less whatever this test took
    age(mobile, 16)
    issue(mobile, SmsPurpose.RESET)
    assert SmsCode.objects.filter(mobile=mobile).count() == 2


def test_other_mobiles_are_not_held_up_by_the_resend_wait(db):
    issue(make_mobile())

    issue(make_mobile())


def _make_room_in_the_day(now: dt.datetime) -> dt.datetime:
    """The start of the stretch of today where earlier codes are put.

    Within the first ~70 s after local midnight there is no room for ten codes
    older than the 60 s resend wait; wait that out (rare, at most 70 s).
    """
    midnight = local_midnight(now)
    if now - midnight < dt.timedelta(seconds=75):
        time.sleep((midnight + dt.timedelta(seconds=75) - now).total_seconds())
        now = timezone.now()
    return max(local_midnight(now), now - dt.timedelta(hours=2))


def test_eleventh_code_of_the_local_day_is_refused(db):
    mobile = make_mobile()
    start = _make_room_in_the_day(timezone.now())
    for i in range(10):
        issue(mobile, ip=f"192.0.2.{i + 1}")
        newest = SmsCode.objects.filter(mobile=mobile).order_by("-created_at").first()
        SmsCode.objects.filter(pk=newest.pk).update(created_at=start + dt.timedelta(seconds=i))

    error = refused_issue(mobile, ip="192.0.2.99")

    now = timezone.now()
    until_midnight = (local_midnight(now) + dt.timedelta(days=1) - now).total_seconds()
    assert error.code == "daily_limit"
    assert abs(error.retry_after - until_midnight) <= 5
    assert "今日" in error.message
    assert re.search(r"\d+ (秒|分钟|小时)", error.message)
    assert SmsCode.objects.filter(mobile=mobile).count() == 10


def test_codes_before_local_midnight_do_not_count_for_today(db):
    mobile = make_mobile()
    start = _make_room_in_the_day(timezone.now())
    for i in range(10):
        issue(mobile, ip=f"192.0.2.{i + 1}")
        newest = SmsCode.objects.filter(mobile=mobile).order_by("-created_at").first()
        SmsCode.objects.filter(pk=newest.pk).update(created_at=start + dt.timedelta(seconds=i))
    # Exactly at local midnight still counts for today ...
    SmsCode.objects.filter(mobile=mobile).update(created_at=local_midnight(timezone.now()))
    assert refused_issue(mobile).code == "daily_limit"

    # ... one second before it (Asia/Shanghai, not UTC) belongs to yesterday.
    SmsCode.objects.filter(mobile=mobile).update(created_at=local_midnight(timezone.now()) - dt.timedelta(seconds=1))
    issue(mobile)
    assert SmsCode.objects.filter(mobile=mobile).count() == 11


def test_per_ip_hourly_cap(db, settings):
    settings.SMS_HOURLY_LIMIT_PER_IP = 2
    issue(make_mobile(), ip=IP)
    issue(make_mobile(), ip=IP)
    third = make_mobile()

    error = refused_issue(third, ip=IP)

    assert error.code == "ip_limit"
    assert 1 <= error.retry_after <= 3600
    assert "后再试" in error.message
    assert not SmsCode.objects.filter(mobile=third).exists()
    issue(third, ip=OTHER_IP)


def test_per_ip_cap_opens_again_after_the_hour(db, settings):
    settings.SMS_HOURLY_LIMIT_PER_IP = 1
    issue(make_mobile(), ip=IP)
    assert refused_issue(make_mobile(), ip=IP).code == "ip_limit"

    Throttle.objects.filter(key=sms.ip_throttle_key(IP)).update(
        window_start=F("window_start") - dt.timedelta(seconds=3601)
    )

    issue(make_mobile(), ip=IP)


def test_refused_requests_do_not_use_up_the_ip_allowance(db, settings):
    settings.SMS_HOURLY_LIMIT_PER_IP = 2
    mobile = make_mobile()
    issue(mobile, ip=IP)
    for _ in range(3):
        refused_issue(mobile, ip=IP)  # resend wait

    issue(make_mobile(), ip=IP)


# --- the outbox and its backends -------------------------------------------------------------


@pytest.fixture
def gateway(settings):
    """The HTTP backend pointed at a fake gateway on 127.0.0.1."""
    with FakeSmsGateway(secret="portal-gateway-secret", key_id="portal-test", hang_seconds=5) as fake:
        settings.SMS_BACKEND = "http"
        settings.SMS_HTTP_URL = fake.url
        settings.SMS_HTTP_KEY_ID = fake.key_id
        settings.SMS_HTTP_SECRET = fake.secret
        settings.SMS_HTTP_TIMEOUT = 2
        yield fake


def queued_code_sms(mobile: str | None = None) -> tuple[SmsMessage, str]:
    mobile = mobile or make_mobile()
    code = issue(mobile)
    return SmsMessage.objects.get(mobile=mobile), code


def test_outbox_backend_keeps_the_message(db, settings):
    settings.SMS_BACKEND = "outbox"
    message, code = queued_code_sms()

    assert sms.sms_message_send(message_id=message.pk) is True

    message.refresh_from_db()
    assert message.status == SmsStatus.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert message.gateway_message_id == f"outbox-{message.pk}"
    assert code in message.body
    assert sms.sms_message_send(message_id=message.pk) is False
    message.refresh_from_db()
    assert message.attempts == 1


def test_unknown_backend_is_a_configuration_error(db, settings):
    settings.SMS_BACKEND = "carrier-pigeon"
    message, _ = queued_code_sms()

    with pytest.raises(ValueError, match="carrier-pigeon"):
        sms.sms_message_send(message_id=message.pk)


def test_send_of_a_missing_row_does_nothing(db, gateway):
    assert sms.sms_message_send(message_id=987654321) is False
    assert gateway.request_count == 0


def test_http_backend_sends_signed_request_and_redacts_the_code(db, gateway):
    message, code = queued_code_sms()

    assert sms.sms_message_send(message_id=message.pk) is True

    message.refresh_from_db()
    assert message.status == SmsStatus.SENT
    assert message.attempts == 1
    assert message.gateway_message_id == "gw-1"
    assert message.last_error == ""
    assert code not in message.body
    assert "验证码******" in message.body
    [request] = gateway.requests
    assert request.signature_valid
    assert request.headers["X-Key-Id"] == "portal-test"
    assert abs(int(request.headers["X-Timestamp"]) - time.time()) < 60
    assert request.json["client_ref"] == f"sms-{message.pk}"
    assert request.json["to"] == str(message.mobile)
    assert code in request.json["content"]  # the person does get the code


def test_plain_message_body_is_left_alone_after_sending(db, gateway):
    message = sms.sms_message_queue(mobile=make_mobile(), body="您的信息变更已保存。")

    sms.sms_message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.body == "【贵州省财政会计网】您的信息变更已保存。"
    assert gateway.requests[0].json["content"] == message.body


def test_gateway_error_is_recorded_and_left_pending(db, gateway):
    gateway.answer("error")
    message, code = queued_code_sms()

    with pytest.raises(sms.SmsGatewayError, match="500"):
        sms.sms_message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == SmsStatus.PENDING
    assert message.attempts == 1
    assert "500" in message.last_error
    assert code in message.body  # still needed for the retry

    gateway.answer("ok")
    assert sms.sms_message_send(message_id=message.pk) is True
    message.refresh_from_db()
    assert message.status == SmsStatus.SENT
    assert message.attempts == 2
    assert message.last_error == ""
    assert {r.json["client_ref"] for r in gateway.requests} == {f"sms-{message.pk}"}


@pytest.mark.parametrize(("answer", "error_text"), [("not_json", "not JSON"), ("refused", "blocklist")])
def test_unusable_gateway_answers_are_errors(db, gateway, answer, error_text):
    gateway.answer(answer)
    message, _ = queued_code_sms()

    with pytest.raises(sms.SmsGatewayError):
        sms.sms_message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == SmsStatus.PENDING
    assert error_text in message.last_error
    assert message.gateway_message_id == ""


def test_gateway_that_hangs_times_out(db, gateway, settings):
    settings.SMS_HTTP_TIMEOUT = 0.5
    gateway.answer("hang")
    message, _ = queued_code_sms()
    started = time.monotonic()

    with pytest.raises(sms.SmsGatewayError, match="Timeout"):
        sms.sms_message_send(message_id=message.pk)

    assert time.monotonic() - started < 4  # the client gave up, not the server
    message.refresh_from_db()
    assert message.status == SmsStatus.PENDING
    assert message.attempts == 1
    assert "Timeout" in message.last_error


def test_wrong_secret_is_refused_by_the_gateway(db, gateway, settings):
    settings.SMS_HTTP_SECRET = "not-the-shared-secret"
    message, _ = queued_code_sms()

    with pytest.raises(sms.SmsGatewayError, match="401"):
        sms.sms_message_send(message_id=message.pk)

    assert gateway.requests[0].signature_valid is False


def test_unreachable_gateway_is_an_error(db, settings):
    with FakeSmsGateway() as fake:
        url = fake.url  # a port that was free a moment ago and is closed now
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = url
    message, _ = queued_code_sms()

    with pytest.raises(sms.SmsGatewayError, match="unreachable"):
        sms.sms_message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == SmsStatus.PENDING


def test_message_fails_for_good_after_the_last_attempt(db, gateway, settings):
    settings.SMS_SEND_MAX_RETRIES = 3
    gateway.answer("error")
    message, _ = queued_code_sms()

    for _ in range(3):
        with pytest.raises(sms.SmsGatewayError):
            sms.sms_message_send(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == SmsStatus.FAILED
    assert message.attempts == 3
    assert sms.sms_message_send(message_id=message.pk) is False
    assert gateway.request_count == 3


def test_already_sent_message_is_not_sent_again(db, gateway):
    message, _ = queued_code_sms()
    assert sms.sms_message_send(message_id=message.pk) is True

    assert sms.sms_message_send(message_id=message.pk) is False

    assert gateway.request_count == 1
    message.refresh_from_db()
    assert message.attempts == 1


@pytest.fixture
def retries_run_here():
    """`Task.apply` runs a task and its retries in this process, with this test's
    settings (in CI the worker process would not see the fake gateway). Celery
    follows a retry there only when eager errors do not propagate."""
    saved = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    yield
    celery_app.conf.task_eager_propagates = saved


def test_task_retries_until_the_gateway_accepts(db, gateway, settings, retries_run_here):
    settings.SMS_HTTP_TIMEOUT = 0.5
    gateway.script("error", "hang", "not_json")
    message, _ = queued_code_sms()

    result = sms_send.apply(args=(message.pk,))

    assert result.get() is True
    message.refresh_from_db()
    assert message.status == SmsStatus.SENT
    assert message.attempts == 4
    assert gateway.request_count == 4
    assert {r.json["client_ref"] for r in gateway.requests} == {f"sms-{message.pk}"}


def test_task_gives_up_after_the_last_attempt(db, gateway, settings, retries_run_here):
    settings.SMS_SEND_MAX_RETRIES = 3
    settings.SMS_HTTP_TIMEOUT = 0.5
    gateway.answer("error")
    message, _ = queued_code_sms()

    result = sms_send.apply(args=(message.pk,))

    assert result.get() is False
    message.refresh_from_db()
    assert message.status == SmsStatus.FAILED
    assert message.attempts == 3
    assert gateway.request_count == 3


def test_sweep_queues_only_pending_rows_older_than_the_threshold(tasks_run):
    # Rows as a broker outage leaves them: written, never queued.
    now = timezone.now()
    stale = SmsMessage.objects.create(mobile=make_mobile(), body="stale", created_at=now - dt.timedelta(minutes=2))
    fresh = SmsMessage.objects.create(mobile=make_mobile(), body="fresh", created_at=now)
    done = SmsMessage.objects.create(
        mobile=make_mobile(), body="done", created_at=now - dt.timedelta(minutes=2), status=SmsStatus.SENT
    )
    gone = SmsMessage.objects.create(
        mobile=make_mobile(), body="gone", created_at=now - dt.timedelta(minutes=2), status=SmsStatus.FAILED
    )

    assert sms.sms_outbox_sweep(older_than_seconds=30) == 1

    wait_for(lambda: SmsMessage.objects.get(pk=stale.pk).status == SmsStatus.SENT, message="the stale SMS")
    # A later message goes through the same queue; once it is sent, anything
    # wrongly queued before it would have been sent too.
    probe = sms.sms_message_queue(mobile=make_mobile(), body="probe")
    wait_for(lambda: SmsMessage.objects.get(pk=probe.pk).status == SmsStatus.SENT, message="the probe SMS")
    assert SmsMessage.objects.get(pk=fresh.pk).status == SmsStatus.PENDING
    assert SmsMessage.objects.get(pk=done.pk).attempts == 0
    assert SmsMessage.objects.get(pk=gone.pk).status == SmsStatus.FAILED
    assert sms.sms_outbox_sweep(older_than_seconds=30) == 0
