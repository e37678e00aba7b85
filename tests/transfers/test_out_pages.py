"""跨出省外调转 pages: only with an 已采集 archive; the list (调出省外申请), 申请 and its
validation, the evidence (its owner only) and 撤回."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from PIL import Image

from collection import services as collection_services
from tests.factories import AccountFactory
from tests.images import document_upload, gps_of, jpeg_with_gps, png_headed_html, svg_bytes, upload
from transfers import services
from transfers.models import PlatformRecord, PlatformStatus, TransferOut, TransferStatus
from transfers.national import LocalPlatform
from transfers.provinces import PROVINCES

from .helpers import HOME, apply, messages_of, submitted, text

pytestmark = pytest.mark.django_db

INDEX = reverse("transfers:index")
OUT_LIST = reverse("transfers:out_list")
OUT_CREATE = reverse("transfers:out_create")


def withdraw_url(transfer) -> str:
    return reverse("transfers:out_withdraw", args=[transfer.pk])


def evidence_url(transfer) -> str:
    return reverse("transfers:out_evidence", args=[transfer.pk])


def post_apply(client, **overrides):
    data = {"to_province": "51", "reason": "work", "destination": "四川省成都市某某会计师事务所",
            "evidence": document_upload("JPEG"), **overrides}
    return client.post(OUT_CREATE, {k: v for k, v in data.items() if v is not None})


def test_the_entry_page_is_public(client):
    response = client.get(INDEX)
    html = text(response)
    assert response.status_code == 200 and "跨省调入" in html and "登录后申请调出" in html
    assert reverse("transfers:in_verify") in html


def test_login_is_required(client):
    for url in (OUT_LIST, OUT_CREATE):
        response = client.get(url)
        assert response.status_code == 302 and reverse("accounts:login") in response.url


def test_not_collected_gets_the_not_collected_page(client, reference_data):
    user = AccountFactory()
    client.force_login(user)
    for url in (OUT_LIST, OUT_CREATE):
        response = client.get(url)
        assert response.status_code == 403 and "请先完成信息采集" in text(response)
    collection_services.archive_start(user=user)  # 采集中 is not enough either
    response = client.post(OUT_CREATE, {})
    assert response.status_code == 403 and "继续信息采集" in text(response)
    with pytest.raises(services.TransferError):
        apply(user)
    assert not TransferOut.objects.exists()


def test_the_list_page_before_and_after(accountant_client, accountant, django_assert_max_num_queries):
    response = accountant_client.get(OUT_LIST)
    html = text(response)
    assert response.status_code == 200 and "暂无调出省外申请" in html and f'href="{OUT_CREATE}"' in html
    first = submitted(accountant)
    services.transfer_out_withdraw(user=accountant, transfer_id=first.pk)
    second = submitted(accountant, to_province="44", reason="residence", destination="广州市天河区某路1号")
    with django_assert_max_num_queries(12):
        response = accountant_client.get(OUT_LIST)
    html = text(response)
    assert f'data-testid="transfer-{first.pk}"' in html and f'data-testid="transfer-{second.pk}"' in html
    assert "调往广东省 · 居住" in html and "调往四川省 · 工作调动" in html
    assert "已撤回" in html and "待调入地接收" in html and second.platform_ref in html
    assert html.count(">撤回</button>") == 1  # only the open one


def test_the_form_offers_the_other_provinces_and_the_reasons(accountant_client):
    response = accountant_client.get(OUT_CREATE)
    assert response.status_code == 200
    form = response.context["form"]
    codes = [code for code, _ in form.fields["to_province"].choices if code]
    assert len(codes) == 31 and HOME not in codes and "66" in codes
    assert set(codes) == set(PROVINCES) - {HOME}
    html = text(response)
    labels = ("调入省份", "调转原因", "工作调动", "就学", "居住", "调入单位、学校或地址", "证明材料",
              "新疆生产建设兵团")
    for label in labels:
        assert label in html, label
    assert 'enctype="multipart/form-data"' in html and ">贵州省<" not in html


def test_missing_fields_are_named_in_chinese(accountant_client):
    response = accountant_client.post(OUT_CREATE, {"destination": "   "})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["to_province"] == ["请选择调入省份。"]
    assert errors["reason"] == ["请选择调转原因。"]
    assert errors["destination"] == ["请填写调入单位、学校或地址。"]
    assert errors["evidence"] == ["请上传证明材料。"]
    assert not TransferOut.objects.exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("to_province", "52", "请选择调入省份。"),
    ("to_province", "99", "请选择调入省份。"),
    ("reason", "holiday", "请选择调转原因。"),
    ("destination", "单" * 201, "不能超过 200 个字。"),
])
def test_bad_choices(accountant_client, field, value, message):
    response = post_apply(accountant_client, **{field: value})
    assert response.status_code == 200 and response.context["form"].errors[field] == [message]
    assert not TransferOut.objects.exists()


@pytest.mark.parametrize(("data", "name", "message"), [
    (svg_bytes(), "x.svg", "只能上传 JPG 或 PNG 格式的图片。"),
    (png_headed_html(), "x.png", "图片"),
    (b"", "empty.jpg", "空文件"),
])
def test_a_bad_image_is_refused(accountant_client, settings, data, name, message):
    response = post_apply(accountant_client, evidence=upload(data, name))
    assert response.status_code == 200
    errors = response.context["form"].errors["evidence"]
    assert any(message in e for e in errors), errors
    assert not TransferOut.objects.exists()
    assert not (settings.MEDIA_ROOT / "transfers").exists() or not any((settings.MEDIA_ROOT / "transfers").iterdir())


def test_apply_stores_the_application_submitted_with_a_clean_private_image(accountant_client, accountant):
    response = post_apply(accountant_client, evidence=upload(jpeg_with_gps(), "工作地变更证明.jpg"),
                          destination="  成都市   某单位 ")
    assert response.status_code == 302 and response.url == OUT_LIST
    assert "调出申请已提交，正在报送全国平台。可在本页查看调出进度。" in messages_of(response)
    transfer = TransferOut.objects.get(user=accountant)
    assert (transfer.status, transfer.to_province, transfer.reason, transfer.destination) == (
        TransferStatus.SUBMITTED, "51", "work", "成都市 某单位")
    assert transfer.evidence.name.startswith("transfers/") and "工作地" not in transfer.evidence.name
    data = transfer.evidence.read()
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG"
    assert gps_of(data) == {} and b"TestCam" not in data
    html = text(accountant_client.get(OUT_LIST))
    assert "已提交" in html and "正在报送全国平台" in html
    # the submission task (queued on commit) moves it on; here its service runs directly
    assert services.transfer_out_submit(transfer_id=transfer.pk) is True
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.PENDING_RECEIPT and transfer.platform_ref.startswith("QG")
    record = PlatformRecord.objects.get(ref=transfer.platform_ref)
    assert (record.from_province, record.to_province, record.name, record.destination) == (
        HOME, "51", accountant.name, "成都市 某单位")
    assert record.payload["educations"][0]["school"] == "贵州财经大学" and record.payload["photo"]
    html = text(accountant_client.get(OUT_LIST))
    assert "待调入地接收" in html and transfer.platform_ref in html and 'data-testid="status-time"' in html


def test_the_submission_runs_on_commit(accountant_client, accountant, django_capture_on_commit_callbacks, settings):
    if settings.REDIS_URL:  # with a broker the worker does it: tests/transfers/test_sync.py waits for it
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            post_apply(accountant_client)
        assert len(callbacks) == 1
        return
    with django_capture_on_commit_callbacks(execute=True):
        post_apply(accountant_client)
    transfer = TransferOut.objects.get(user=accountant)
    assert transfer.status == TransferStatus.PENDING_RECEIPT and transfer.platform_ref


def test_the_evidence_is_only_for_its_owner(client, accountant, other_accountant):
    transfer = apply(accountant)
    client.force_login(accountant)
    response = client.get(evidence_url(transfer))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert {"no-store", "private"} <= set(response["Cache-Control"].replace(" ", "").split(","))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    client.force_login(other_accountant)
    assert client.get(evidence_url(transfer)).status_code == 404
    assert client.post(withdraw_url(transfer)).status_code == 404
    assert client.get(reverse("transfers:out_evidence", args=[transfer.pk + 999])).status_code == 404
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.SUBMITTED
    assert f'data-testid="transfer-{transfer.pk}"' not in text(client.get(OUT_LIST))


def test_withdraw_from_the_page(accountant_client, accountant):
    transfer = submitted(accountant)
    assert accountant_client.get(withdraw_url(transfer)).status_code == 405
    response = accountant_client.post(withdraw_url(transfer))
    assert response.status_code == 302 and response.url == OUT_LIST
    assert messages_of(response) == ["调出申请已撤回。"]
    transfer.refresh_from_db()
    assert transfer.status == TransferStatus.WITHDRAWN and transfer.withdrawn_at
    assert PlatformRecord.objects.get(ref=transfer.platform_ref).status == PlatformStatus.WITHDRAWN
    response = accountant_client.post(withdraw_url(transfer))
    assert "该申请当前状态为“已撤回”，不能撤回。" in messages_of(response)
    html = text(accountant_client.get(OUT_LIST))
    assert "撤回时间" in html and ">撤回</button>" not in html and f'href="{OUT_CREATE}"' in html


def test_withdraw_before_the_submission_went_through(accountant, settings):
    never_sent = apply(accountant)
    services.transfer_out_withdraw(user=accountant, transfer_id=never_sent.pk)
    never_sent.refresh_from_db()
    assert never_sent.status == TransferStatus.WITHDRAWN and not PlatformRecord.objects.exists()
    # sent, but the answer was lost: the platform's record is withdrawn too
    lost = apply(accountant)
    ref = LocalPlatform().transfer_submit(
        client_ref=lost.client_ref, from_province=HOME, to_province="51", name=accountant.name,
        id_type=accountant.id_type, id_number=accountant.plain_id_number, mobile=str(accountant.mobile),
        reason="work", destination="x", payload={},
    ).ref
    services.transfer_out_withdraw(user=accountant, transfer_id=lost.pk)
    lost.refresh_from_db()
    assert lost.status == TransferStatus.WITHDRAWN and lost.platform_ref == ref
    assert PlatformRecord.objects.get(ref=ref).status == PlatformStatus.WITHDRAWN
    # the sweep leaves withdrawn applications alone
    assert services.transfer_submit_sweep(older_than_seconds=0) == 0
