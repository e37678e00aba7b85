"""One rule for "business under way": no 申请 while a claim is 待审核 or another transfer
is open (also under concurrency), and no 学分确认申请 or 信息变更 while a transfer out
is open; 撤回 until the destination receives."""

from __future__ import annotations

import pytest
from django.urls import reverse

from changes import services as changes
from changes.models import ChangeRecord
from collection.models import Archive, Division
from education import claims
from education.models import CreditClaim, CreditClaimStatus
from tests.images import document_upload
from transfers import business, services
from transfers.business import BusinessRefused
from transfers.models import TransferOut, TransferStatus

from .helpers import apply, at_once, make_claim, messages_of, receive, submitted, text

OUT_LIST = reverse("transfers:out_list")
OUT_CREATE = reverse("transfers:out_create")
CLAIM_CREATE = reverse("education:claim_create")
CLAIM_PENDING = "您有待审核的学分确认申请，请等待审核完成或撤回后再申请。"
OPEN_TRANSFER = "您有进行中的跨省调出申请"


def change_employer(user, employer: str = "贵阳新单位"):
    archive = Archive.objects.get(user=user)
    return changes.change_work(
        archive=archive, expected_version=archive.version, ip=None, employment_status="accounting",
        division=Division.objects.get(code="520102"), employer=employer, school="", provincial_declaration=False,
        student_card=None,
    )


# --- 5. pending business blocks 申请 -----------------------------------------------------------


@pytest.mark.django_db
def test_a_pending_claim_blocks_the_application_with_the_reason(accountant, accountant_client, this_year):
    claim = make_claim(accountant, this_year)
    assert business.pending_business(user=accountant) == [CLAIM_PENDING]
    with pytest.raises(BusinessRefused) as refused:
        apply(accountant)
    assert refused.value.message == CLAIM_PENDING
    html = text(accountant_client.get(OUT_LIST))
    assert 'data-testid="refusal"' in html and CLAIM_PENDING in html and f'href="{OUT_CREATE}"' not in html
    for response in (accountant_client.get(OUT_CREATE), accountant_client.post(OUT_CREATE, {
            "to_province": "51", "reason": "work", "destination": "x", "evidence": document_upload("JPEG")})):
        assert response.status_code == 403 and CLAIM_PENDING in text(response)
    assert not TransferOut.objects.exists()

    claims.credit_claim_withdraw(user=accountant, claim_id=claim.pk)
    assert business.pending_business(user=accountant) == []
    assert f'href="{OUT_CREATE}"' in text(accountant_client.get(OUT_LIST))
    transfer = apply(accountant)
    assert transfer.status == TransferStatus.SUBMITTED


@pytest.mark.django_db
def test_a_decided_claim_does_not_block(accountant, other_accountant, this_year):
    claim = make_claim(accountant, this_year)
    claims.credit_claim_approve(claim_id=claim.pk, reviewer=other_accountant)
    assert apply(accountant).status == TransferStatus.SUBMITTED


@pytest.mark.django_db
def test_an_open_transfer_blocks_another(accountant, accountant_client):
    first = apply(accountant)
    with pytest.raises(BusinessRefused) as refused:
        apply(accountant, to_province="44")
    assert refused.value.message == "您已有进行中的调出省外申请（已提交），不能重复申请。"
    services.transfer_out_submit(transfer_id=first.pk)
    response = accountant_client.get(OUT_CREATE)
    assert response.status_code == 403
    assert "您已有进行中的调出省外申请（待调入地接收），不能重复申请。" in text(response)
    services.transfer_out_withdraw(user=accountant, transfer_id=first.pk)
    assert apply(accountant, to_province="44").status == TransferStatus.SUBMITTED
    assert TransferOut.objects.filter(user=accountant).count() == 2


@pytest.mark.django_db
def test_the_database_holds_one_open_transfer_per_person(accountant):
    from django.db import IntegrityError, transaction

    first = apply(accountant)
    with pytest.raises(IntegrityError), transaction.atomic():
        TransferOut.objects.create(user=accountant, to_province="44", reason="work", destination="x",
                                   evidence=first.evidence.name)


@pytest.mark.parametrize("round_", range(3))
@pytest.mark.django_db(transaction=True)
def test_two_applications_at_once_exactly_one_passes(reference_data, settings, round_):
    from tests.education.helpers import collect
    from tests.factories import AccountFactory

    user = AccountFactory(name=f"并发{round_}")
    collect(user)
    results = at_once(lambda: apply(user), lambda: apply(user, to_province="44"))
    passed = [r for r in results if isinstance(r, TransferOut)]
    refused = [r for r in results if not isinstance(r, TransferOut)]
    assert len(passed) == 1 and len(refused) == 1, results
    assert isinstance(refused[0], BusinessRefused) and "进行中的调出省外申请" in refused[0].message
    assert TransferOut.objects.filter(user=user).count() == 1
    stored = settings.MEDIA_ROOT / "transfers"
    assert sorted(p.name for p in stored.iterdir()) == [TransferOut.objects.get(user=user).evidence.name.split("/")[1]]


@pytest.mark.parametrize("round_", range(3))
@pytest.mark.django_db(transaction=True)
def test_a_claim_and_an_application_at_once_not_both(reference_data, round_):
    from django.utils import timezone

    from tests.education.helpers import collect
    from tests.factories import AccountFactory

    user = AccountFactory(name=f"同时{round_}")
    collect(user)
    year = timezone.localdate().year
    results = at_once(lambda: apply(user), lambda: make_claim(user, year))
    transfers = TransferOut.objects.filter(user=user).count()
    claims_ = CreditClaim.objects.filter(user=user).count()
    assert transfers + claims_ == 1, results
    loser = next(r for r in results if isinstance(r, Exception))
    assert isinstance(loser, BusinessRefused), results
    assert (CLAIM_PENDING if claims_ else OPEN_TRANSFER) in loser.message


# --- 6. states, and what an open transfer blocks ---------------------------------------------


@pytest.mark.django_db
def test_while_a_transfer_is_open_claims_and_changes_are_refused_with_the_reason(accountant, accountant_client,
                                                                                 this_year):
    transfer = apply(accountant)
    expected = "您有进行中的跨省调出申请（已提交），暂不能办理学分确认申请。如需办理，请先撤回调出申请。"
    with pytest.raises(BusinessRefused) as refused:
        make_claim(accountant, this_year)
    assert refused.value.message == expected
    response = accountant_client.get(CLAIM_CREATE)
    assert response.status_code == 403 and expected in text(response)

    services.transfer_out_submit(transfer_id=transfer.pk)  # 待调入地接收: still open
    with pytest.raises(BusinessRefused) as refused:
        change_employer(accountant)
    assert refused.value.message == (
        "您有进行中的跨省调出申请（待调入地接收），暂不能办理信息变更。如需办理，请先撤回调出申请。")
    for item in ("personal", "work", "education"):
        response = accountant_client.get(reverse("changes:edit", args=[item]))
        assert response.status_code == 403 and "暂不能办理信息变更" in text(response), item
    # reading stays open
    assert accountant_client.get(reverse("changes:menu")).status_code == 200
    assert accountant_client.get(reverse("changes:item", args=["work"])).status_code == 200
    assert not CreditClaim.objects.exists() and not ChangeRecord.objects.exists()

    response = accountant_client.post(reverse("transfers:out_withdraw", args=[transfer.pk]))
    assert messages_of(response) == ["调出申请已撤回。"]
    assert make_claim(accountant, this_year).status == CreditClaimStatus.PENDING
    assert change_employer(accountant).item == "work"
    assert accountant_client.get(reverse("changes:edit", args=["work"])).status_code == 200


@pytest.mark.django_db
def test_withdraw_after_the_destination_received_says_so_and_shows_received(accountant, accountant_client):
    transfer = submitted(accountant)
    receive(transfer)  # the periodic sync has not run yet: the page still says 待调入地接收
    assert "待调入地接收" in text(accountant_client.get(OUT_LIST))
    response = accountant_client.post(reverse("transfers:out_withdraw", args=[transfer.pk]))
    assert response.status_code == 302
    assert messages_of(response) == ["调入地已接收您的调转，不能再撤回。"]
    transfer.refresh_from_db()
    accountant.refresh_from_db()
    assert transfer.status == TransferStatus.RECEIVED and accountant.transferred_out_at is not None
    html = text(accountant_client.get(OUT_LIST))
    assert 'data-testid="transferred-out"' in html and "已调入" in html and ">撤回</button>" not in html


@pytest.mark.django_db
def test_withdraw_while_still_submitted(accountant, accountant_client):
    transfer = apply(accountant)
    accountant_client.post(reverse("transfers:out_withdraw", args=[transfer.pk]))
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.WITHDRAWN
    assert services.transfer_out_submit(transfer_id=transfer.pk) is True  # a late task sends nothing
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.WITHDRAWN and transfer.platform_ref is None
