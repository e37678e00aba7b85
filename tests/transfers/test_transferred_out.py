"""已调出: the person can log in and read the archive and the records; every business
action is refused with a message; staff see the state."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.urls import reverse

from changes.models import ChangeRecord
from education import services as education
from education.credits import credit_record_add
from education.models import CreditClaim, CreditSource, Enrolment, LaunchToken
from tests.accounts.test_views import log_in
from tests.education.helpers import make_institution
from tests.images import document_upload
from transfers import services
from transfers.business import BusinessRefused, transferred_out_message
from transfers.models import TransferOut, TransferStatus

from .helpers import apply, make_claim, messages_of, receive, submitted, text
from .test_pending_business import change_employer

pytestmark = pytest.mark.django_db

GONE = "您的档案已调出贵州省（已调出），可以查看档案和继续教育记录，但不能再办理业务。"


@pytest.fixture
def gone(accountant, this_year):
    """An accountant with an enrolment and a credit record, transferred out and received."""
    institution = make_institution("GZ009", years=(this_year,), name="贵州会计网校")
    education.enrolment_create(user=accountant, institution=institution, year=this_year)
    credit_record_add(user=accountant, source=CreditSource.INSTITUTION, record_id="R1", year=this_year,
                      category="professional", credits=Decimal(24), course="企业会计准则解读",
                      completed_at=dt.date(this_year, 1, 2), institution=institution)
    transfer = submitted(accountant)
    receive(transfer)
    services.transfers_sync()
    accountant.refresh_from_db()
    assert accountant.transferred_out_at is not None
    return accountant


def test_the_person_logs_in_and_reads(client, gone, this_year):
    response = log_in(client, gone)
    assert response.status_code == 302
    home = client.get(reverse("accounts:home"))
    assert home.status_code == 200 and 'data-testid="transferred-out"' in text(home) and "已调出" in text(home)
    for url in (reverse("collection:status"), reverse("education:menu"), reverse("changes:menu"),
                reverse("changes:item", args=["personal"]), reverse("education:claim_list"),
                reverse("education:remote")):
        assert client.get(url).status_code == 200, url
    credits = client.get(reverse("education:credits"), {"year": this_year})
    assert credits.status_code == 200 and "24" in text(credits)
    detail = client.get(reverse("education:credit_detail"), {"year": this_year})
    assert detail.status_code == 200 and "企业会计准则解读" in text(detail)
    out = client.get(reverse("transfers:out_list"))
    html = text(out)
    assert out.status_code == 200 and 'data-testid="transferred-out"' in html and "已调入" in html
    assert reverse("transfers:out_create") not in html


def test_every_business_action_is_refused_with_a_message(client, gone, this_year):
    client.force_login(gone)
    # 学分确认申请
    with pytest.raises(BusinessRefused) as refused:
        make_claim(gone, this_year)
    assert refused.value.message == GONE == transferred_out_message()
    response = client.get(reverse("education:claim_create"))
    assert response.status_code == 403 and GONE in text(response)
    response = client.post(reverse("education:claim_create"), {
        "year": this_year, "activity": "conference", "days": "2", "details": "x", "evidence": document_upload("JPEG")})
    assert response.status_code == 403 and not CreditClaim.objects.exists()
    # 信息变更
    with pytest.raises(BusinessRefused) as refused:
        change_employer(gone)
    assert refused.value.message == GONE
    response = client.get(reverse("changes:edit", args=["work"]))
    assert response.status_code == 403 and GONE in text(response)
    assert not ChangeRecord.objects.exists()
    # 报名
    other = make_institution("GZ010", years=(this_year,), name="另一网校")
    with pytest.raises(education.EducationError) as refused:
        education.enrolment_create(user=gone, institution=other, year=this_year)
    assert refused.value.message == GONE
    response = client.post(reverse("education:enrol"), {"institution": other.pk, "year": this_year})
    assert response.status_code == 302 and GONE in messages_of(response)
    assert not Enrolment.objects.filter(institution=other).exists()
    # 点击查看 (into the learning platform)
    enrolment = Enrolment.objects.get(user=gone)
    with pytest.raises(education.EducationError):
        education.launch_token_issue(enrolment=enrolment)
    response = client.post(reverse("education:launch", args=[enrolment.pk]))
    assert response.status_code == 302 and GONE in messages_of(response) and not LaunchToken.objects.exists()
    # 跨出省外调转 again
    with pytest.raises(BusinessRefused) as refused:
        apply(gone)
    assert refused.value.message == GONE
    response = client.get(reverse("transfers:out_create"))
    assert response.status_code == 403 and GONE in text(response)
    assert TransferOut.objects.filter(user=gone).count() == 1


def test_staff_see_the_state(gone, other_accountant):
    model_admin = admin.site._registry[TransferOut]
    transfer = TransferOut.objects.select_related("user").get(user=gone)
    assert transfer.status == TransferStatus.RECEIVED
    assert str(model_admin.account_state(transfer)) == "已调出"
    open_one = apply(other_accountant)
    assert str(model_admin.account_state(TransferOut.objects.select_related("user").get(pk=open_one.pk))) == "正常"
    assert not model_admin.has_change_permission(None) and not model_admin.has_delete_permission(None)
