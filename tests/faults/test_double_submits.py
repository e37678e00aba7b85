"""Issue 9 point 11: double submits on the real processes, one effect each.

Two identical POSTs sent at once from the same browser session (a double click, or
a resend after a slow answer) to gunicorn with several workers and threads, on
PostgreSQL. The services' own concurrency tests run in-process; these go through
HTTP, the session and the forms:
- 注册: tests/accounts/test_security.py::test_two_registrations_of_one_id_at_once_make_one_account
- 申请 (transfer out): tests/transfers/test_pending_business.py::test_two_applications_at_once_exactly_one_passes
- 完成调入: tests/transfers/test_transfer_in.py::test_step_three_twice_at_once_creates_one_of_each
- 提交 (wizard) and 我要申请 (claim) had no concurrency test before these.
"""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image

from tests.factories import make_id_number
from tests.faults.stack import wait_until
from tests.faults.web import CODE, Visitor, at_once

PASSWORD = "Kj#Double2026pass"


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (225, 230, 235)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def answered(results) -> list[int]:
    """Both POSTs got a normal answer (no exception, no server error); their statuses."""
    for result in results:
        assert not isinstance(result, Exception), result
        assert result.status_code < 500, f"HTTP {result.status_code}\n{result.text[:3000]}"
    return [r.status_code for r in results]


def twice(visitor: Visitor, url: str, data: dict, files: dict | None = None) -> list:
    """The same POST twice at once over two connections with the same cookies."""
    first, second = visitor.clone(), visitor.clone()
    return at_once(lambda: first.post(url, data, files), lambda: second.post(url, data, files))


def sms_code(db, mobile: str) -> str:
    body = wait_until(lambda: db.value("SELECT body FROM accounts_smsmessage WHERE mobile = %s AND body LIKE %s "
                                       "ORDER BY id DESC LIMIT 1", mobile, "%验证码%"), timeout=30, what="an SMS code")
    return CODE.search(body).group(1)


@pytest.mark.parametrize("round_", range(2))
def test_register_twice_at_once_makes_one_account(running, db, round_):
    app = running.app_main.url
    person = Visitor(app)
    assert person.submit("/accounts/register/", having="works_in_guizhou",
                         data={"works_in_guizhou": "yes", "holds_qualification": "yes"}).status_code == 302
    url, fields = person.form("/accounts/register/form/", having="sms_code")
    mobile = f"136{random.randrange(10**8):08d}"
    typed = {**fields, "name": "双击注册", "id_type": "resident_id_card",
             "id_number": make_id_number(birth="19850607", seq=random.randrange(500)),
             "password1": PASSWORD, "password2": PASSWORD, "mobile": mobile}
    assert person.post("/accounts/sms-code/", {**typed, "purpose": "register"}).status_code == 200
    statuses = answered(twice(person, url, {**typed, "sms_code": sms_code(db, "+86" + mobile)}))
    assert 302 in statuses, statuses
    assert db.value("SELECT count(*) FROM accounts_user WHERE mobile = %s", "+86" + mobile) == 1


def test_wizard_submit_twice_at_once_collects_once(running, db, seeded):
    app = running.app_main.url
    (person,) = seeded("drafts", count=1, prefix="双击提交")
    visitor = Visitor(app)
    visitor.log_in(person["id_number"], person["password"])
    assert visitor.get("/collection/review/").status_code == 200
    statuses = answered(twice(visitor, "/collection/review/", {"csrfmiddlewaretoken": visitor.csrf()}))
    assert statuses == [302, 302], statuses
    rows = db.rows("SELECT status, archive_number, collected_at FROM collection_archive WHERE user_id = %s",
                   person["pk"])
    assert len(rows) == 1 and rows[0][0] == "collected" and rows[0][1] and rows[0][2], rows
    page = visitor.get("/collection/status/")
    assert page.status_code == 200 and rows[0][1] in page.text


def test_claim_twice_at_once_files_one_claim(running, db, seeded):
    app = running.app_main.url
    (person,) = seeded("drafts", count=1, collected=True, prefix="双击申请")
    visitor = Visitor(app)
    visitor.log_in(person["id_number"], person["password"])
    url, fields = visitor.form("/education/claims/new/", having="activity")
    data = {**fields, "activity": "paper_sole", "details": "《贵州财会》2025 年第 1 期论文"}
    results = twice(visitor, url, data, files={"evidence": ("paper.jpg", jpeg(), "image/jpeg")})
    statuses = answered(results)
    assert statuses == [302, 302], [(r.status_code, r.text[:1500]) for r in results]
    claims = db.rows("SELECT status, evidence FROM education_creditclaim WHERE user_id = %s", person["pk"])
    assert len(claims) == 1, claims
    listing = visitor.get("/education/claims/")
    assert listing.status_code == 200 and listing.text.count("待审核") >= 1
    # The second post's evidence file is not left behind.
    media = running.media
    assert _files(media, "claims") == {claims[0][1]}


def _files(media, folder: str) -> set[str]:
    return {p.relative_to(media).as_posix() for p in (media / folder).rglob("*") if p.is_file()}


def test_transfer_apply_twice_at_once_applies_once(running, db, seeded):
    app = running.app_main.url
    (person,) = seeded("drafts", count=1, collected=True, prefix="双击调出")
    visitor = Visitor(app)
    visitor.log_in(person["id_number"], person["password"])
    url, fields = visitor.form("/transfers/out/new/", having="destination")
    data = {**fields, "to_province": "51", "reason": "work", "destination": "四川省成都市某某公司"}
    statuses = answered(twice(visitor, url, data, files={"evidence": ("move.jpg", jpeg(), "image/jpeg")}))
    assert 302 in statuses, statuses
    rows = db.rows("SELECT evidence FROM transfers_transferout WHERE user_id = %s", person["pk"])
    assert len(rows) == 1, rows
    assert rows[0][0] in _files(running.media, "transfers")


def test_transfer_in_completed_twice_at_once_creates_one_account(running, db, seeded):
    app = running.app_main.url
    name, mobile = "双击调入", f"138{random.randrange(10**8):08d}"
    id_number = make_id_number(birth="19900101", area="510104", seq=random.randrange(500))
    seeded("incoming", name=name, id_number=id_number, mobile=mobile)
    visitor = Visitor(app)
    url, fields = visitor.form("/transfers/in/", having="sms_code")
    who = {**fields, "name": name, "id_type": "resident_id_card", "id_number": id_number, "mobile": mobile}
    assert visitor.post(url, {**who, "action": "send_code"}).status_code == 200
    verified = visitor.post(url, {**who, "sms_code": sms_code(db, "+86" + mobile)})
    assert verified.status_code == 302, verified.text[:2000]
    prefecture, county = (db.value("SELECT id FROM collection_division WHERE code = %s", code)
                          for code in ("520100", "520102"))
    confirmed = visitor.submit("/transfers/in/confirm/", having="employer", data={
        "prefecture": prefecture, "county": county, "employer": "贵阳市某某公司", "confirmed": "on"})
    assert confirmed.status_code == 302, confirmed.text[:2000]
    url, fields = visitor.form("/transfers/in/password/", having="password1")
    statuses = answered(twice(visitor, url, {**fields, "password1": PASSWORD, "password2": PASSWORD}))
    assert 302 in statuses, statuses
    users = db.rows("SELECT id FROM accounts_user WHERE name = %s AND mobile = %s", name, "+86" + mobile)
    assert len(users) == 1, users
    assert db.value("SELECT count(*) FROM collection_archive WHERE user_id = %s", users[0][0]) == 1
    assert db.value("SELECT count(*) FROM transfers_transferin WHERE user_id = %s", users[0][0]) == 1
    Visitor(app).log_in(id_number, PASSWORD)
