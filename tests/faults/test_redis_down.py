"""Issue 9 point 8: Redis stopped during registration, password reset and a credit batch.

With Redis (broker and cache) down the pages still answer normally and the work is kept
in the outbox tables (SmsMessage 待发送, CreditBatch 待处理); once Redis is back and the
periodic sweeps run, every SMS is sent exactly once and every batch processed once.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal

from tests.factories import make_id_number
from tests.faults.stack import wait_until
from tests.faults.web import CODE, Visitor, credit_batch_post, credit_records

PASSWORD = "Kj#Fault2026pass"
NEW_PASSWORD = "Nw#Fault2027pass"


def latest_code(db, mobile: str, purpose_word: str) -> str:
    body = db.value("SELECT body FROM accounts_smsmessage WHERE mobile = %s AND body LIKE %s ORDER BY id DESC LIMIT 1",
                    "+86" + mobile, f"%{purpose_word}%")
    assert body, f"no {purpose_word} SMS for {mobile} in the outbox"
    return CODE.search(body).group(1)


def timed(call):
    started = time.monotonic()
    answer = call()
    return answer, time.monotonic() - started


def normal_page(answer, *, status: int, contains: str = "") -> None:
    assert answer.status_code == status, f"HTTP {answer.status_code} for {answer.request.url}\n{answer.text[:3000]}"
    if contains:
        assert contains in answer.text


def test_registration_reset_and_a_credit_batch_while_redis_is_down(running, db, seeded):
    stack = running
    app = stack.app_main.url
    learners = seeded("learners", count=2, code="REDIS1", prefix="离线")
    mobile = f"135{random.randrange(10**8):08d}"
    id_number = make_id_number(birth="19870203", seq=random.randrange(500))
    sms_before = db.value("SELECT max(id) FROM accounts_smsmessage") or 0

    stack.redis.stop()
    try:
        # --- 用户注册: eligibility, 获取短信验证码 (the JavaScript endpoint), 注册 -----------------
        person = Visitor(app)
        answer = person.submit("/accounts/register/", having="works_in_guizhou",
                               data={"works_in_guizhou": "yes", "holds_qualification": "no"})
        normal_page(answer, status=302)
        url, fields = person.form("/accounts/register/form/", having="sms_code")
        typed = {"name": "离线注册", "id_type": "resident_id_card", "id_number": id_number, "password1": PASSWORD,
                 "password2": PASSWORD, "mobile": mobile}
        sent, seconds = timed(lambda: person.post("/accounts/sms-code/", {**fields, **typed, "purpose": "register"}))
        normal_page(sent, status=200)
        assert sent.json()["ok"] is True, sent.text
        assert seconds < 20, f"获取短信验证码 took {seconds:.1f}s with the broker down"
        code = latest_code(db, mobile, "注册")
        registered = person.post(url, {**fields, **typed, "sms_code": code})
        normal_page(registered, status=302)
        assert registered.headers["Location"].endswith("/accounts/login/")
        normal_page(person.get("/accounts/login/"), status=200, contains="注册成功")
        assert db.value("SELECT count(*) FROM accounts_user WHERE mobile = %s", "+86" + mobile) == 1

        # --- 忘记密码: 获取短信验证码 (without JavaScript), 下一步, 完成 ---------------------------
        time.sleep(1.1)  # SMS_RESEND_SECONDS=1 in the stack
        resetter = Visitor(app)
        reset_url, reset_fields = resetter.form("/accounts/password-reset/", having="sms_code")
        who = {"name": "离线注册", "id_number": id_number, "mobile": mobile}
        asked = resetter.post(reset_url, {**reset_fields, **who, "action": "send_code"})
        normal_page(asked, status=200, contains="短信验证码已发送至该手机号码")
        reset_code = latest_code(db, mobile, "找回密码")
        verified = resetter.post(reset_url, {**reset_fields, **who, "sms_code": reset_code})
        normal_page(verified, status=302)
        done = resetter.submit(verified.headers["Location"], having="new_password1",
                               data={"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        normal_page(done, status=302)
        normal_page(resetter.get("/accounts/login/"), status=200, contains="密码已重置")
        member = Visitor(app)
        member.log_in(id_number, NEW_PASSWORD)
        # Sessions are read through Redis when it is up (portal.sessions): with it down, the
        # database answers, and logging out still ends the session.
        normal_page(member.get("/accounts/home/", allow_redirects=False), status=200, contains="离线注册")
        _url, fields = member.form("/accounts/home/", having="csrfmiddlewaretoken")
        normal_page(member.post("/accounts/logout/", fields), status=302)
        assert member.get("/accounts/home/", allow_redirects=False).status_code == 302

        # --- an institution posts a credit batch -------------------------------------------------
        records = [r for n, p in enumerate(learners["people"])
                   for r in credit_records(p, year=learners["year"], prefix=f"R{n}", count=20)]
        posted, seconds = timed(lambda: credit_batch_post(app, learners, records))
        assert posted.status_code == 202, posted.text
        assert seconds < 20, f"the batch POST took {seconds:.1f}s with the broker down"
        batch_id = posted.json()["batch_id"]

        # --- all of it is waiting in the outbox tables ------------------------------------------
        outbox = db.rows("SELECT id, status, attempts FROM accounts_smsmessage WHERE id > %s ORDER BY id", sms_before)
        # 注册 code, 找回密码 code, 密码已重置 notice
        assert len(outbox) == 3, outbox
        assert all(status == "pending" and attempts == 0 for _id, status, attempts in outbox), outbox
        assert db.value("SELECT status FROM education_creditbatch WHERE id = %s", batch_id) == "pending"
        assert db.value("SELECT count(*) FROM education_creditrecord WHERE batch_id = %s", batch_id) == 0
    finally:
        stack.redis.start()

    # --- Redis back: the worker reconnects, the sweeps queue what was left ------------------------
    queued = seeded("sweep")
    assert queued["sms"] >= 3 and queued["batches"] >= 1, queued
    ids = [row[0] for row in outbox]
    wait_until(lambda: db.value("SELECT count(*) FROM accounts_smsmessage WHERE id = ANY(%s) AND status = 'sent'",
                                ids) == 3, timeout=120, what="the three SMS to be sent")
    wait_until(lambda: db.value("SELECT status FROM education_creditbatch WHERE id = %s", batch_id) == "done",
               timeout=120, what="the credit batch to be processed")
    # A second sweep (beat's next round) finds nothing, and nothing is sent twice.
    again = seeded("sweep")
    assert again == {"sms": 0, "batches": 0}, again
    time.sleep(2)
    assert db.rows("SELECT status, attempts FROM accounts_smsmessage WHERE id = ANY(%s)", ids) == [("sent", 1)] * 3
    assert db.value("SELECT count(*) FROM education_creditrecord WHERE batch_id = %s", batch_id) == len(records)
    assert db.rows("SELECT processed, accepted_count FROM education_creditbatch WHERE id = %s",
                   batch_id) == [(len(records), len(records))]
    assert db.value("SELECT count(*) FROM education_creditbatchitem WHERE batch_id = %s", batch_id) == 0
    for person in learners["people"]:
        total = db.value("SELECT total FROM education_credityeartotal WHERE user_id = %s AND year = %s",
                         person["pk"], learners["year"])
        assert total == Decimal("30.0"), (person, total)  # 20 records of 1.5
