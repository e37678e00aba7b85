"""The staff back office in a real browser (issue 7, point 12).

A county 审核员 (南明区) logs in to /admin/ with password and TOTP, sees only their
county's 学分确认申请 (not the neighbouring 云岩区's), opens one with its evidence and
presses 通过; opening the other county's person's archive by URL is a 404; the archive
list is exported as CSV (masked ID numbers). The 审计员 then logs in and finds those
actions in 访问记录.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import StaffProfile, StaffUnitKind, User
from accounts.roles import AUDITOR, REVIEWER, roles_setup
from collection.models import Division
from collection.reference import reference_data_load
from education import claims
from education.models import CreditClaim, CreditClaimStatus
from portal.images import clean_image
from portal.models import AuditAction, AuditEntry
from tests.factories import AccountFactory
from tests.images import document_upload
from tests.staff.conftest import collect_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Stf#Portal2026x"


def staff_user(username: str, *, role: str, division: str | None) -> User:
    user = User.objects.create_user(username, PASSWORD, name=f"{role}{username}", is_staff=True)
    if division:
        StaffProfile.objects.create(user=user, unit_kind=StaffUnitKind.DIVISION,
                                    division=Division.objects.get(code=division))
    else:
        StaffProfile.objects.create(user=user, unit_kind=StaffUnitKind.PROVINCE)
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name=role))
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return user


def current_token(user) -> str:
    device = TOTPDevice.objects.get(user=user)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def known_errors_only(pages, where: str) -> None:
    """The admin's /favicon.ico and the deliberately refused pages (404, 403) are the only
    tolerated console errors."""
    refused = ("/favicon.ico", "status of 404", "status of 403")
    pages.js_errors[:] = [e for e in pages.js_errors if not any(r in e for r in refused)]
    pages.assert_no_js_errors(where)


def admin_login(page, user) -> None:
    page.goto("/admin/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_label("动态口令").fill(current_token(user))
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("link", name="注销").or_(page.get_by_role("button", name="注销"))).to_be_visible()


@pytest.fixture
def setting(transactional_db):
    reference_data_load()
    roles_setup()
    year = timezone.localdate().year
    mine, neighbour = AccountFactory(name="南明会计"), AccountFactory(name="云岩会计")
    collect_in(mine, "520102")
    collect_in(neighbour, "520103")
    evidence = lambda: clean_image(document_upload())  # noqa: E731
    my_claim = claims.credit_claim_create(user=mine, year=year, activity="paper_sole", days=None,
                                          details="论文一篇", evidence=evidence())
    other_claim = claims.credit_claim_create(user=neighbour, year=year, activity="paper_sole", days=None,
                                             details="论文一篇", evidence=evidence())
    return {
        "mine": User.objects.get(pk=mine.pk), "neighbour": User.objects.get(pk=neighbour.pk),
        "my_claim": my_claim, "other_claim": other_claim,
        "reviewer": staff_user("nm-reviewer", role=REVIEWER, division="520102"),
        "auditor": staff_user("auditor", role=AUDITOR, division=None),
    }


def test_county_reviewer_and_auditor(pages, shot, setting, tmp_path):
    mine, neighbour = setting["mine"], setting["neighbour"]
    reviewer, auditor = setting["reviewer"], setting["auditor"]

    # --- without the dynamic code the admin stays closed ----------------------------------
    admin = pages.open(width=1280, height=900)
    admin.goto("/admin/")
    expect(admin.get_by_label("动态口令")).to_be_visible()
    admin.get_by_label("用户名").fill(reviewer.username)
    admin.get_by_label("密码").fill(PASSWORD)
    admin.get_by_role("button", name="登录").click()
    expect(admin.get_by_text("请输入身份验证器上的 6 位动态口令")).to_be_visible()
    shot(admin, "login-needs-totp")

    # --- password + TOTP ------------------------------------------------------------------
    admin_login(admin, reviewer)
    expect(admin.get_by_test_id("queue-pending").first).to_contain_text("1")
    shot(admin, "index")
    known_errors_only(pages, "on the admin index")

    # --- the review queue: only 南明区 ------------------------------------------------------
    admin.goto("/admin/education/creditclaim/")
    expect(admin.locator("#result_list tbody tr")).to_have_count(1)
    expect(admin.locator("#result_list")).to_contain_text("南明会计")
    expect(admin.locator("#result_list")).not_to_contain_text("云岩会计")
    shot(admin, "queue")
    admin.locator("#result_list tbody tr").first.get_by_role("link").first.click()
    image = admin.get_by_role("img", name="证明材料")
    expect(image).to_be_visible()
    assert admin.evaluate("(img) => img.complete && img.naturalWidth > 0", image.element_handle())
    shot(admin, "claim")
    admin.get_by_role("button", name="通过", exact=True).click()
    expect(admin.get_by_text(f"申请 #{setting['my_claim'].pk} 已通过")).to_be_visible()
    shot(admin, "approved")
    assert CreditClaim.objects.get(pk=setting["my_claim"].pk).status == CreditClaimStatus.APPROVED
    assert CreditClaim.objects.get(pk=setting["other_claim"].pk).status == CreditClaimStatus.PENDING

    # --- another county's person by URL: 404 -------------------------------------------------
    response = admin.goto(f"/admin/collection/archive/{neighbour.archive.pk}/change/")
    assert response.status == 404
    shot(admin, "other-county-404")
    response = admin.goto(f"/admin/education/creditclaim/{setting['other_claim'].pk}/change/")
    assert response.status == 404
    known_errors_only(pages, "after the 404 pages")

    # --- own archive: masked, then the list exported ---------------------------------------------
    admin.goto(f"/admin/collection/archive/{mine.archive.pk}/change/")
    expect(admin.get_by_text(mine.id_number_masked)).to_be_visible()
    assert mine.id_number not in admin.content()
    shot(admin, "archive")
    admin.goto("/admin/collection/archive/")
    expect(admin.locator("#result_list tbody tr")).to_have_count(1)
    with admin.expect_download() as download_info:
        admin.get_by_test_id("export-archives-csv").click()
    path = tmp_path / "archives.csv"
    download_info.value.save_as(path)
    exported = path.read_text(encoding="utf-8-sig")
    assert "南明会计" in exported and "云岩会计" not in exported
    assert mine.id_number_masked in exported and mine.id_number not in exported
    shot(admin, "archive-list")
    known_errors_only(pages, "on the archive pages")

    # --- the auditor ----------------------------------------------------------------------------
    audit = pages.open(width=1280, height=900)
    admin_login(audit, auditor)
    audit.goto("/admin/portal/auditentry/")
    rows = audit.locator("#result_list tbody tr")
    expect(rows.filter(has_text="学分确认申请通过")).to_have_count(1)
    expect(rows.filter(has_text="导出信息档案")).to_have_count(1)
    expect(rows.filter(has_text="查看档案详情")).to_have_count(1)
    expect(rows.filter(has_text="查看上传材料").first).to_be_visible()
    expect(rows.filter(has_text="nm-reviewer").first).to_be_visible()
    shot(audit, "audit-log")
    audit.get_by_role("link", name="导出信息档案").first.click()
    expect(audit.locator("#result_list tbody tr")).to_have_count(1)
    shot(audit, "audit-log-exports")
    # the auditor reads the log and nothing else
    response = audit.goto(f"/admin/collection/archive/{mine.archive.pk}/change/")
    assert response.status == 403
    known_errors_only(pages, "in the audit log")
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT_ARCHIVES, row_count=1).count() == 1
