"""The manual's section 2.3 (信息采集) in a real browser: log in, 阅读须知,
个人信息 with uploads, 学历信息, 专业技术信息 with repeatable rows, 工作信息
with the cascading division selects, 提交, then 采集状态 shows 已采集.

Every step is screenshotted at 375 px and 1280 px (tests/e2e/screenshots/) and
must not scroll sideways. A second journey runs with JavaScript off: 新增 and
the division selects work through the server, and the draft resumes after
logging in again in another browser context.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from collection.models import Archive, ArchiveStatus, Division, DivisionLevel
from collection.reference import reference_data_load
from tests.factories import AccountFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "张采集"
GOOD_EMAIL = "zhang.caiji@example.com"
BAD_EMAIL = "zhang.caiji@"
QUALIFICATIONS = [
    # (类型, 级别, 取得方式, 取得时间, 证书号或批文号)
    ("会计类", "初级", "考试", "2012-05-20", "KJ2012-0001"),
    ("会计类", "中级", "考试", "2016-09-10", "KJ2016-0002"),
]


@pytest.fixture
def reference_data(transactional_db):
    """Transactional tests flush the code tables: load them for the wizard."""
    reference_data_load()


@pytest.fixture
def account(reference_data):
    return AccountFactory(name=NAME)


@pytest.fixture
def images(tmp_path):
    """A 免冠证件照 of the minimum 295×413 px and two ID-card sides, as JPEGs."""
    from PIL import Image, ImageDraw

    def make(name, size, colour):
        image = Image.new("RGB", size, colour)
        ImageDraw.Draw(image).rectangle([10, 10, size[0] - 10, size[1] - 10], outline=(40, 40, 40), width=4)
        path = tmp_path / name
        image.save(path, "JPEG", quality=85)
        return path

    return {
        "photo": make("photo.jpg", (300, 420), (200, 220, 240)),
        "id_card_front": make("id-front.jpg", (856, 540), (235, 225, 200)),
        "id_card_back": make("id-back.jpg", (856, 540), (210, 235, 210)),
    }


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def masked(id_number: str) -> str:
    return id_number[:6] + "********" + id_number[-4:]


def check_step(page, pages, shot, name: str) -> None:
    """Every step: screenshot, no sideways scrolling, no JavaScript error."""
    shot(page, name)
    width = page.viewport_size["width"]
    assert no_horizontal_scroll(page), f"{name} scrolls sideways at {width} px"
    pages.assert_no_js_errors(f"on {name} at {width} px")


def go_on(page, to: str, *, button: str = "下一步") -> None:
    """Post a step with its button; the server answers without an error and `to` opens."""
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name=button, exact=True).click()
    status = posted.value.status
    assert status < 500, f"{button} on {page.url}: the server answered HTTP {status}"
    page.wait_for_url(f"**/collection/{to}/")


def log_in(page, account) -> None:
    """第一步：登录 — 证件号码, 密码, 登录."""
    page.goto("/accounts/login/")
    page.get_by_label("证件号码").fill(account.plain_id_number)
    page.locator("#id_password").fill(account.plain_password)
    page.get_by_role("button", name="登录").click()
    page.get_by_text(f"您好，{NAME}").wait_for()


def accept_notice(page) -> None:
    """第二步：阅读须知 — 勾选“承诺填写信息的真实性”, 下一步."""
    page.get_by_label("承诺填写信息的真实性").check()
    go_on(page, "personal")


def fill_education(page) -> None:
    """第四步：学历信息 — 全日制教育 (非全日制 left empty)."""
    full_time = page.locator(".card").filter(has=page.get_by_role("heading", name="全日制教育", exact=True))
    full_time.get_by_label("学历").select_option(label="大学本科")
    full_time.get_by_label("学位").select_option(label="学士")
    full_time.get_by_label("毕业院校").fill("贵州财经大学")
    full_time.get_by_label("所学专业").fill("会计学")
    full_time.get_by_label("入学日期").fill("2006-09-01")
    full_time.get_by_label("毕业日期").fill("2010-07-01")


def fill_certifications(page) -> None:
    """专业技术认证: the four questions."""
    page.get_by_label("是否注册会计师").select_option(label="否")
    page.get_by_label("是否税务师").select_option(label="否")
    page.get_by_label("是否资产评估师").select_option(label="是")
    page.get_by_label("珠算等级").select_option(label="三级")


def fill_qualification(row, values) -> None:
    kind, level, method, obtained_on, number = values
    row.get_by_label("专业技术资格类型").select_option(label=kind)
    row.get_by_label("专业技术资格级别").select_option(label=level)
    row.get_by_label("专业技术资格取得方式").select_option(label=method)
    row.get_by_label("专业技术资格取得时间").fill(obtained_on)
    row.get_by_label("证书号或批文号").fill(number)


def county_options(page) -> list[str]:
    return page.locator("#id_county option").evaluate_all(
        "options => options.filter(o => o.value).map(o => o.textContent.trim())"
    )


def counties_of(prefecture: str) -> list[str]:
    return list(
        Division.objects.filter(level=DivisionLevel.COUNTY, parent__name=prefecture)
        .order_by("code")
        .values_list("name", flat=True)
    )


def thumbnails_loaded(page) -> int:
    """How many 已上传 thumbnails the browser really decoded (served by the private view)."""
    return page.locator("img.upload-thumb").evaluate_all(
        "images => images.filter(i => i.complete && i.naturalWidth > 0).length"
    )


@pytest.mark.parametrize("width", [375, 1280], ids=["375px", "1280px"])
def test_complete_wizard(pages, shot, account, images, width):
    page = pages.open(width=width, height=812 if width == 375 else 900)

    page.goto("/accounts/login/")
    check_step(page, pages, shot, "login")
    log_in(page, account)
    expect(page.get_by_test_id("collection-status")).to_have_text("未采集")
    check_step(page, pages, shot, "home")

    page.goto("/collection/")
    page.wait_for_url("**/collection/notice/")
    expect(page.get_by_role("heading", name="采集须知")).to_be_visible()
    check_step(page, pages, shot, "notice")
    accept_notice(page)

    # 第三步：个人信息. First with a bad e-mail address: the Chinese error shows,
    # the uploads are stored anyway and what was typed is kept.
    personal = re.compile(r".*/collection/personal/$")
    expect(page.get_by_text(masked(account.plain_id_number))).to_be_visible()
    page.get_by_label("民族").select_option(label="苗族")
    page.get_by_label("政治面貌").select_option(label="中共党员")
    page.get_by_label("电子邮箱").fill(BAD_EMAIL)
    page.get_by_label("免冠证件照").set_input_files(images["photo"])
    page.get_by_label("身份证人像面").set_input_files(images["id_card_front"])
    page.get_by_label("身份证国徽面").set_input_files(images["id_card_back"])
    check_step(page, pages, shot, "personal-filled")
    page.get_by_role("button", name="下一步").click()

    expect(page.get_by_text("请输入有效的电子邮箱地址。")).to_be_visible()
    expect(page).to_have_url(personal)
    expect(page.get_by_text(re.compile("已上传.*重新选择文件可替换"))).to_have_count(3)
    for label in ("免冠证件照", "身份证人像面", "身份证国徽面"):
        expect(page.get_by_role("img", name=f"已上传的{label}")).to_be_visible()
    page.wait_for_load_state("load")
    assert thumbnails_loaded(page) == 3
    expect(page.get_by_label("民族")).to_have_value(re.compile(".+"))
    assert page.get_by_label("民族").evaluate("s => s.selectedOptions[0].text") == "苗族"
    assert page.get_by_label("政治面貌").evaluate("s => s.selectedOptions[0].text") == "中共党员"
    expect(page.get_by_label("电子邮箱")).to_have_value(BAD_EMAIL)
    check_step(page, pages, shot, "personal-bad-email")

    page.get_by_label("电子邮箱").fill(GOOD_EMAIL)
    go_on(page, "education")

    # 第四步：学历信息
    fill_education(page)
    check_step(page, pages, shot, "education")
    go_on(page, "professional")

    # 第五步：专业技术信息. 新增 adds rows in the page (no reload: the marker survives).
    fill_certifications(page)
    page.evaluate("window.__noReload = true")
    qualifications = page.locator("#section-qualifications")
    qualification_rows = qualifications.locator(".formset-row")
    expect(qualification_rows).to_have_count(0)
    qualifications.get_by_role("button", name="新增").click()
    qualifications.get_by_role("button", name="新增").click()
    expect(qualification_rows).to_have_count(2)
    for row, values in zip(qualification_rows.all(), QUALIFICATIONS, strict=True):
        fill_qualification(row, values)

    talents = page.locator("#section-talents")
    talents.get_by_role("button", name="新增").click()
    talent = talents.locator(".formset-row")
    expect(talent).to_have_count(1)
    talent.get_by_label("会计人才类型").select_option(label="高端会计人才")
    talent.get_by_label("入选年度").fill("2016")
    talent.get_by_label("期次").fill("3")
    talent.get_by_label("培养状态").select_option(label="已毕业")
    talent.get_by_label("毕业年度").fill("2019")
    assert page.evaluate("window.__noReload === true"), "新增 reloaded the page"
    expect(page.get_by_label("是否资产评估师")).to_have_value("true")
    check_step(page, pages, shot, "professional")
    go_on(page, "work")

    # 第六步：工作信息. The county select offers only the chosen prefecture's counties.
    page.get_by_label("会计工作岗位", exact=True).check()
    expect(page.get_by_label("县（市、区）")).to_be_hidden()
    page.get_by_label("所属行政区划（市、州）").select_option(label="遵义市")
    expect(page.get_by_label("县（市、区）")).to_be_visible()
    zunyi = counties_of("遵义市")
    assert len(zunyi) == 14
    assert county_options(page) == zunyi
    page.get_by_label("县（市、区）").select_option(label="汇川区")
    page.get_by_label("工作单位").fill("遵义市汇川区某某会计师事务所")
    expect(page.get_by_label("学校")).to_be_hidden()
    check_step(page, pages, shot, "work")
    go_on(page, "review")

    # 第七步：提交. The summary has both qualifications and only the masked ID number.
    expect(page.get_by_role("alert")).to_have_count(0)
    summary = page.locator("main")
    expect(summary.get_by_text(masked(account.plain_id_number))).to_be_visible()
    assert account.plain_id_number not in page.content()
    qualification_labels = summary.locator("dt", has_text=re.compile("^专业技术资格$"))
    qualification_values = qualification_labels.locator("xpath=following-sibling::dd[1]")
    expect(qualification_values).to_have_count(2)
    expect(qualification_values.nth(0)).to_have_text(re.compile(r"会计类，初级，考试\s+2012-05-20\s+KJ2012-0001"))
    expect(qualification_values.nth(1)).to_have_text(re.compile(r"会计类，中级，考试\s+2016-09-10\s+KJ2016-0002"))
    expect(summary.get_by_text("高端会计人才，入选年度 2016，第 3 期，已毕业，毕业年度 2019")).to_be_visible()
    full_time = re.compile(r"大学本科，学士\s+贵州财经大学，会计学\s+2006-09-01 至 2010-07-01")
    expect(summary.get_by_text(full_time)).to_be_visible()
    expect(summary.get_by_text("遵义市汇川区某某会计师事务所")).to_be_visible()
    for text in ("苗族", "中共党员", GOOD_EMAIL):
        expect(summary.get_by_text(text, exact=True)).to_be_visible()
    page.wait_for_load_state("load")
    assert thumbnails_loaded(page) == 3
    check_step(page, pages, shot, "review")
    go_on(page, "status", button="提交")

    # 采集状态
    expect(page.get_by_text("信息采集已提交")).to_be_visible()
    expect(page.get_by_test_id("collection-status")).to_have_text("已采集")
    archive = Archive.objects.get(user=account)
    assert archive.status == ArchiveStatus.COLLECTED
    expect(page.get_by_test_id("archive-number")).to_have_text(archive.archive_number)
    assert re.fullmatch(r"52\d{4}\d{8}", archive.archive_number)
    expect(page.locator("dd", has_text=re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"))).to_have_count(1)
    assert archive.qualifications.count() == 2
    assert archive.talents.get().graduation_year == 2019
    assert archive.division.name == "汇川区"
    check_step(page, pages, shot, "status")
    page.get_by_role("link", name="返回我的首页").click()
    expect(page.get_by_test_id("collection-status")).to_have_text("已采集")
    check_step(page, pages, shot, "home-collected")

    # Done: the wizard's steps now open 采集状态.
    page.goto("/collection/personal/")
    page.wait_for_url("**/collection/status/")


def test_wizard_without_javascript(pages, shot, account, images):
    page = pages.open(javascript=False)
    log_in(page, account)
    page.goto("/collection/")
    accept_notice(page)

    page.get_by_label("民族").select_option(label="苗族")
    page.get_by_label("政治面貌").select_option(label="群众")
    page.get_by_label("电子邮箱").fill(GOOD_EMAIL)
    page.get_by_label("免冠证件照").set_input_files(images["photo"])
    page.get_by_label("身份证人像面").set_input_files(images["id_card_front"])
    page.get_by_label("身份证国徽面").set_input_files(images["id_card_back"])
    go_on(page, "education")
    fill_education(page)
    go_on(page, "professional")

    # 新增 without JavaScript posts; the page comes back with one more row and
    # everything typed before kept.
    fill_certifications(page)
    rows = page.locator("#section-qualifications .formset-row")
    expect(rows).to_have_count(0)
    page.locator("#section-qualifications").get_by_role("button", name="新增").click()
    expect(rows).to_have_count(1)
    expect(page.get_by_label("是否资产评估师")).to_have_value("true")
    expect(page.get_by_label("珠算等级")).to_have_value("3")
    fill_qualification(rows.nth(0), QUALIFICATIONS[0])
    shot(page, "nojs-professional-one-row")
    page.locator("#section-qualifications").get_by_role("button", name="新增").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(0).get_by_label("证书号或批文号")).to_have_value("KJ2012-0001")
    expect(rows.nth(0).get_by_label("专业技术资格取得时间")).to_have_value("2012-05-20")
    expect(rows.nth(0).get_by_label("专业技术资格级别")).to_have_value("junior")
    expect(page.get_by_label("是否资产评估师")).to_have_value("true")
    expect(page.locator(".invalid-feedback, .alert-danger")).to_have_count(0)
    fill_qualification(rows.nth(1), QUALIFICATIONS[1])
    assert no_horizontal_scroll(page)
    shot(page, "nojs-professional-two-rows")
    go_on(page, "work")

    # Resume on another device: log out here, log in again in a new context.
    page.get_by_role("button", name="退出").click()
    page.get_by_text("您已安全退出").wait_for()
    page = pages.open(javascript=False)
    log_in(page, account)
    page.goto("/collection/")
    page.wait_for_url("**/collection/work/")
    # The earlier steps are done and keep their data.
    page.get_by_role("link", name=re.compile("个人信息")).click()
    page.wait_for_url("**/collection/personal/")
    assert page.get_by_label("民族").evaluate("s => s.selectedOptions[0].text") == "苗族"
    expect(page.get_by_label("电子邮箱")).to_have_value(GOOD_EMAIL)
    expect(page.get_by_text(re.compile("已上传.*重新选择文件可替换"))).to_have_count(3)
    page.get_by_role("link", name=re.compile("专业技术信息")).click()
    expect(page.locator("#section-qualifications .formset-row")).to_have_count(2)
    expect(page.get_by_label("珠算等级")).to_have_value("3")
    page.goto("/collection/")
    page.wait_for_url("**/collection/work/")

    # 工作信息 with plain selects: every county is offered (grouped by prefecture);
    # the server checks the combination.
    page.get_by_label("会计工作岗位", exact=True).check()
    page.get_by_label("所属行政区划（市、州）").select_option(label="贵阳市")
    expect(page.get_by_label("县（市、区）")).to_be_visible()
    assert len(county_options(page)) == Division.objects.filter(level=DivisionLevel.COUNTY).count()
    page.get_by_label("县（市、区）").select_option(label="南明区")
    page.get_by_label("工作单位").fill("贵阳市南明区某某公司")
    assert no_horizontal_scroll(page)
    shot(page, "nojs-work")
    go_on(page, "review")

    summary = page.locator("main")
    expect(summary.get_by_text("贵阳市南明区某某公司")).to_be_visible()
    expect(summary.locator("dt", has_text=re.compile("^专业技术资格$"))).to_have_count(2)
    assert account.plain_id_number not in page.content()
    shot(page, "nojs-review")
    go_on(page, "status", button="提交")
    expect(page.get_by_test_id("collection-status")).to_have_text("已采集")
    expect(page.get_by_test_id("archive-number")).to_have_text(re.compile(r"^52\d{12}$"))
    archive = Archive.objects.get(user=account)
    assert archive.division.name == "南明区" and archive.division.parent.name == "贵阳市"
    shot(page, "nojs-status")
