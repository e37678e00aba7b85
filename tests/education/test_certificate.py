"""打印继续教育证明 and /verify/<code>: only for 达标 years, only one's own,
masked ID / masked name, a table-free verification code that resists tampering."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
import segno
from django.urls import reverse

from education import certificates, credits
from education.models import CreditCategory, CreditRecord, CreditSource
from tests.education.helpers import collect
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

_ids = itertools.count(1)
CERT_URL = "/education/credits/certificate/"


def add(user, year: int, category: str, amount: str):
    return credits.credit_record_add(
        user=user, source=CreditSource.STAFF, record_id=f"C{next(_ids)}", year=year, category=category,
        credits=Decimal(amount), course="会计职业道德", completed_at=dt.date(year, 3, 1),
    )


def make_met(user, year: int):
    add(user, year, CreditCategory.PUBLIC, "30")
    return add(user, year, CreditCategory.PROFESSIONAL, "60")


def test_urls():
    assert reverse("education:certificate") == CERT_URL
    assert reverse("verify:certificate", args=["2025ABCDEFGHIJK"]) == "/verify/2025ABCDEFGHIJK"


def test_button_only_for_a_met_year(learner_client, learner, this_year):
    make_met(learner, this_year)
    add(learner, this_year - 1, CreditCategory.PROFESSIONAL, "90")  # 90 in total but no 公需: 未达标
    met = learner_client.get(reverse("education:credits"), {"year": this_year}).content.decode()
    assert "打印继续教育证明" in met and f'href="{CERT_URL}?year={this_year}"' in met
    unmet = learner_client.get(reverse("education:credits"), {"year": this_year - 1}).content.decode()
    assert ">未达标<" in unmet and "打印继续教育证明" not in unmet


def test_certificate_page_shows_masked_id_credits_issuer_code_and_qr(learner_client, learner, this_year):
    make_met(learner, this_year)
    response = learner_client.get(CERT_URL, {"year": this_year})
    assert response.status_code == 200
    html = response.content.decode()
    assert learner.name in html
    assert learner.id_number_masked in html and "*" in learner.id_number_masked
    assert learner.plain_id_number not in html
    assert 'data-testid="cert-public">30.0 ' in html and 'data-testid="cert-professional">60.0 ' in html
    assert "<strong>90.0</strong>" in html and "贵州省财政厅" in html and str(this_year) in html
    code = certificates.verification_code(user_pk=learner.pk, year=this_year)
    assert code in html and "<svg" in html
    assert "css/print.css" in html and "js/print.js" in html
    assert "<script>" not in html  # no inline script: only the static print.js
    assert "data-print hidden" in html  # the 打印 button appears only with JavaScript


def test_the_qr_code_encodes_the_public_verify_url(learner_client, learner, this_year, monkeypatch):
    make_met(learner, this_year)
    seen = []
    real_make = segno.make

    def spy(content, *args, **kwargs):
        seen.append(content)
        return real_make(content, *args, **kwargs)

    monkeypatch.setattr(segno, "make", spy)
    html = learner_client.get(CERT_URL, {"year": this_year}).content.decode()
    code = certificates.verification_code(user_pk=learner.pk, year=this_year)
    assert seen == [f"http://testserver/verify/{code}"]
    assert "<svg" in html and 'class="qr-code"' in html
    # scales with its box instead of being clipped: a viewBox and no fixed pixel size
    svg = html[html.index("<svg"):html.index(">", html.index("<svg"))]
    assert "viewBox=" in svg and 'width="' not in svg


def test_no_certificate_for_a_year_not_met(learner_client, learner, this_year):
    add(learner, this_year, CreditCategory.PUBLIC, "30")
    response = learner_client.get(CERT_URL, {"year": this_year})
    assert response.status_code == 404
    html = response.content.decode()
    assert "未达标，暂不能打印继续教育证明" in html and "<svg" not in html
    assert learner_client.get(CERT_URL).status_code == 404  # no year chosen


def test_the_certificate_is_always_the_logged_in_persons_own(client, learner, reference_data, this_year):
    make_met(learner, this_year)
    other = AccountFactory(name="王其他")
    collect(other)
    client.force_login(other)
    response = client.get(CERT_URL, {"year": this_year, "user": learner.pk, "user_id": learner.pk})
    assert response.status_code == 404
    html = response.content.decode()
    assert learner.name not in html and learner.id_number_masked not in html
    assert certificates.verification_code(user_pk=learner.pk, year=this_year) not in html


def test_certificate_needs_login_and_a_collected_archive(client, reference_data, this_year):
    assert client.get(CERT_URL, {"year": this_year}).status_code == 302
    client.force_login(AccountFactory())
    assert client.get(CERT_URL, {"year": this_year}).status_code == 403


# --- the code -------------------------------------------------------------------------------


def test_code_roundtrip_and_shape():
    code = certificates.verification_code(user_pk=123456, year=2025)
    assert code.startswith("2025" + "2N9C")  # 123456 in base 36
    assert len(code) == 4 + 4 + certificates.MAC_LENGTH
    assert certificates.verification_code_parse(code) == (123456, 2025)
    assert certificates.verification_code_parse(code.lower()) == (123456, 2025)


def test_code_does_not_contain_the_id_number(learner, this_year):
    code = certificates.verification_code(user_pk=learner.pk, year=this_year)
    number = learner.plain_id_number
    assert number not in code and number[-4:] not in code[4:] and number[:6] not in code


def test_code_depends_on_the_secret_key(settings):
    code = certificates.verification_code(user_pk=7, year=2025)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789abcdef"
    assert certificates.verification_code_parse(code) is None


@pytest.mark.parametrize("position", [0, 3, 4, -10, -5, -1])
def test_a_code_with_one_character_changed_is_invalid(position):
    code = certificates.verification_code(user_pk=42, year=2025)
    chars = list(code)
    chars[position] = "7" if chars[position] != "7" else "A"
    assert certificates.verification_code_parse("".join(chars)) is None


# --- the public verify page ----------------------------------------------------------------


def test_verify_page_confirms_with_masked_name_only(client, learner, this_year):
    make_met(learner, this_year)
    code = certificates.verification_code(user_pk=learner.pk, year=this_year)
    response = client.get(f"/verify/{code}")  # not logged in
    assert response.status_code == 200
    html = response.content.decode()
    assert "证明有效" in html and ">达标<" in html and "90.0" in html and str(this_year) in html
    assert certificates.mask_name(learner.name) == "李*员"
    assert "李*员" in html and learner.name not in html
    assert learner.plain_id_number not in html and learner.id_number_masked not in html
    assert response["X-Robots-Tag"] == "noindex"


def test_tampered_code_is_invalid_404(client, learner, this_year):
    make_met(learner, this_year)
    code = certificates.verification_code(user_pk=learner.pk, year=this_year)
    tampered = code[:-1] + ("A" if code[-1] != "A" else "B")
    response = client.get(f"/verify/{tampered}")
    assert response.status_code == 404
    html = response.content.decode()
    assert "证明无效" in html and "李*员" not in html
    assert client.get("/verify/not-a-code").status_code == 404


def test_a_code_used_for_another_year_is_invalid(client, learner, this_year):
    make_met(learner, this_year)
    make_met(learner, this_year - 1)
    code = certificates.verification_code(user_pk=learner.pk, year=this_year)
    other_year = str(this_year - 1) + code[4:]
    assert client.get(f"/verify/{other_year}").status_code == 404
    assert "证明无效" in client.get(f"/verify/{other_year}").content.decode()


def test_a_code_for_another_person_is_invalid(client, learner, this_year):
    make_met(learner, this_year)
    code = certificates.verification_code(user_pk=learner.pk, year=this_year)
    other_pk = certificates._base36(learner.pk + 1)
    assert client.get(f"/verify/{code[:4]}{other_pk}{code[-10:]}").status_code == 404


def test_a_year_no_longer_met_says_so(client, learner, this_year):
    record = make_met(learner, this_year)
    code = certificates.verification_code(user_pk=learner.pk, year=this_year)
    assert "证明有效" in client.get(f"/verify/{code}").content.decode()
    # credits revoked: the record goes and its total with it (kept in step as the credit services do)
    CreditRecord.objects.filter(pk=record.pk).delete()
    credits.credit_totals_repair(differences=credits.credit_totals_check())
    response = client.get(f"/verify/{code}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "已不达标" in html and "此证明不再有效" in html and "证明有效" not in html
    assert ">未达标<" in html


@pytest.mark.parametrize(("name", "masked"), [
    ("张三", "张*"), ("张小三", "张*三"), ("欧阳小明", "欧**明"), ("张", "张*"),
])
def test_mask_name(name, masked):
    assert certificates.mask_name(name) == masked


def test_verify_query_count_is_bounded(client, learner, this_year, django_assert_max_num_queries):
    make_met(learner, this_year)
    code = certificates.verification_code(user_pk=learner.pk, year=this_year)
    with django_assert_max_num_queries(3):
        assert client.get(f"/verify/{code}").status_code == 200
