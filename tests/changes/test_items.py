"""Each change item through its pages: read-only page → 变更信息 → the wizard's fields →
保存 → one change record; the wizard's validation; uploads; rows added, edited, removed."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

import pytest
from django.core.files.storage import default_storage

from collection.models import (
    Archive,
    Award,
    Education,
    EducationMode,
    HighEndTalent,
    PoliticalStatus,
    ProfessionalQualification,
)
from tests.changes import helpers
from tests.changes.helpers import (
    changes_by_label,
    current_version,
    edit_url,
    form_values,
    item_url,
    messages_of,
    only_record,
    records,
    text,
)
from tests.collection.steps import (
    AWARD,
    QUALIFICATION,
    TALENT,
    division,
    options,
    page_errors,
    parse,
)
from tests.images import document_upload, photo_upload, svg_bytes, upload

pytestmark = pytest.mark.django_db

IP = "203.0.113.9"


def base_name(name: str) -> str:
    return PurePosixPath(name).name


def save(client, item: str, changes: dict):
    return helpers.save(client, item, changes, REMOTE_ADDR=IP)


def assert_refused(response, archive: Archive) -> None:
    """The wizard's validation said no: the page again, nothing saved, nothing recorded."""
    assert response.status_code == 200
    assert page_errors(response)
    assert current_version(archive.user) == archive.version
    assert not records(archive.user)


def labels_of(response) -> dict[str, str]:
    return parse(response).labels


# --- 个人信息 --------------------------------------------------------------------------------


def test_personal_item_page_is_read_only_with_current_values(client, collected):
    response = client.get(item_url("personal"))
    html = text(response)
    for value in (collected.user.name, "汉族", "群众", "zhang.san@example.com", "已上传"):
        assert value in html, value
    assert "<input" not in html.split('<main id="main"')[1]  # read-only: no form field at all
    # uploads show as 已上传: neither the storage path nor the random stored name
    assert "archives/" not in html
    assert base_name(collected.photo.name) not in html


def test_personal_edit_shows_the_wizards_fields_with_current_values(client, collected, wizard_page):
    change, wizard = client.get(edit_url("personal")), wizard_page("personal")
    wizard_labels = labels_of(wizard)
    assert {"id_ethnicity", "id_political_status", "id_email", "id_photo", "id_id_card_front"} <= set(wizard_labels)
    change_labels = labels_of(change)
    assert {k: change_labels.get(k) for k in wizard_labels} == wizard_labels
    assert change_labels["id_name"] == "姓名"
    for select in ("ethnicity", "political_status"):
        assert options(change, select) == options(wizard, select) and len(options(change, select)) > 10
    values = form_values(change)
    assert values["name"] == collected.user.name and values["email"] == "zhang.san@example.com"
    assert parse(change).selected["ethnicity"] == [str(collected.ethnicity_id)]
    html = text(change)
    assert collected.user.id_number_masked in html and collected.user.id_number not in html
    assert ">保存</button>" in html and "性别、国籍、出生日期、证件类型和证件号码不能变更" in html


def test_personal_change_is_saved_and_recorded(client, collected):
    party = PoliticalStatus.objects.get(name="中共党员")
    old_name = collected.user.name
    response = save(client, "personal", {"name": "  张   三丰 ", "email": "san.feng@example.com",
                                         "political_status": party.pk})
    assert response.status_code == 302 and response.url == item_url("personal"), page_errors(response)
    assert "个人信息已保存，变更已记入变更记录。" in messages_of(response)

    archive = Archive.objects.select_related("user").get(pk=collected.pk)
    assert (archive.user.name, archive.email, archive.political_status) == ("张 三丰", "san.feng@example.com", party)
    assert archive.version == collected.version + 1
    record = only_record(archive.user)
    assert record.item == "personal" and record.ip_address == IP
    assert changes_by_label(record) == {
        "姓名": (old_name, "张 三丰"),
        "政治面貌": ("群众", "中共党员"),
        "电子邮箱": ("zhang.san@example.com", "san.feng@example.com"),
    }
    assert {c["field"] for c in record.changes} == {"name", "political_status", "email"}
    page = text(client.get(item_url("personal")))
    assert "张 三丰" in page and "san.feng@example.com" in page


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"email": "not-an-email"}, "email", "请输入有效的电子邮箱地址。"),
    ({"email": ""}, "email", "此项为必填项。"),
    ({"name": "   "}, "name", "请输入姓名。"),
    ({"ethnicity": ""}, "ethnicity", "此项为必填项。"),
    ({"political_status": "999999"}, "political_status", ""),
])
def test_personal_validation_is_the_wizards(client, collected, changes, field, message):
    typed = {"name": "新名字", **changes}
    response = save(client, "personal", typed)
    assert_refused(response, collected)
    assert field in page_errors(response) and message in page_errors(response)[field][0]
    values = form_values(response)
    for name, value in typed.items():
        if name in values:
            assert values[name] == value  # what was typed is shown again
    collected.user.refresh_from_db()
    assert collected.user.name != "新名字"


def test_personal_bad_image_is_refused(client, collected):
    response = save(client, "personal", {"photo": upload(svg_bytes(), "photo.svg", "image/svg+xml"),
                                         "email": "kept@example.com"})
    assert_refused(response, collected)
    assert "photo" in page_errors(response)
    assert form_values(response)["email"] == "kept@example.com"
    assert Archive.objects.get(pk=collected.pk).photo.name == collected.photo.name


def test_a_valid_upload_is_not_stored_when_the_rest_fails(client, collected):
    stored = set(default_storage.listdir("archives")[1])
    response = save(client, "personal", {"photo": photo_upload(), "email": "bad"})
    assert_refused(response, collected)
    assert "请重新选择要上传的图片" in text(response)
    assert Archive.objects.get(pk=collected.pk).photo.name == collected.photo.name
    assert set(default_storage.listdir("archives")[1]) == stored  # no orphan left behind


def test_new_photo_is_recorded_by_file_name_and_the_old_file_goes_after_commit(
        client, collected, django_capture_on_commit_callbacks):
    old = collected.photo.name
    assert default_storage.exists(old)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = save(client, "personal", {"photo": photo_upload(), "id_card_back": document_upload("JPEG")})
    assert response.status_code == 302, page_errors(response)
    archive = Archive.objects.get(pk=collected.pk)
    assert archive.photo.name != old and default_storage.exists(archive.photo.name)
    assert default_storage.exists(old)  # not before the commit
    for callback in callbacks:
        callback()
    assert not default_storage.exists(old) and not default_storage.exists(collected.id_card_back.name)
    assert default_storage.exists(archive.photo.name) and default_storage.exists(archive.id_card_back.name)

    changes = changes_by_label(only_record(archive.user))
    assert changes == {
        "免冠证件照": (base_name(old), base_name(archive.photo.name)),
        "身份证国徽面": (base_name(collected.id_card_back.name), base_name(archive.id_card_back.name)),
    }
    assert "/" not in json.dumps(changes)
    # the owner's file view serves the new photo
    assert client.get("/collection/files/photo/").status_code == 200


# --- 学历信息 --------------------------------------------------------------------------------


def options_value(client, select: str, label: str) -> str:
    values = {lab: value for value, lab, _g in parse(client.get(edit_url("education"))).selects[select]}
    return values[label]


def test_education_item_page_and_edit_page(client, collected, wizard_page):
    html = text(client.get(item_url("education")))
    for value in ("全日制学历", "大学本科", "学士", "贵州财经大学", "会计学", "2008-09-01", "2012-07-01"):
        assert value in html
    change, wizard = client.get(edit_url("education")), wizard_page("education")
    wizard_labels = labels_of(wizard)
    assert {"id_ft-level", "id_ft-school", "id_pt-graduation_date"} <= set(wizard_labels)
    assert {k: labels_of(change).get(k) for k in wizard_labels} == wizard_labels
    assert options(change, "ft-level") == options(wizard, "ft-level")
    assert options(change, "ft-degree") == options(wizard, "ft-degree")
    assert form_values(change)["ft-school"] == "贵州财经大学"


def test_education_change_and_part_time_added_then_removed(client, collected):
    part_time = {
        "pt-level": options_value(client, "pt-level", "硕士研究生"),
        "pt-degree": options_value(client, "pt-degree", "硕士"),
        "pt-school": "贵州大学", "pt-major": "工商管理", "pt-start_date": "2015-09-01",
        "pt-graduation_date": "2018-07-01",
    }
    response = save(client, "education", {"ft-school": "贵州大学", **part_time})
    assert response.status_code == 302, page_errors(response)
    record = only_record(collected.user)
    assert record.item == "education" and record.ip_address == IP
    assert changes_by_label(record) == {
        "全日制毕业院校": ("贵州财经大学", "贵州大学"),
        "非全日制学历": ("", "硕士研究生"),
        "非全日制学位": ("", "硕士"),
        "非全日制毕业院校": ("", "贵州大学"),
        "非全日制所学专业": ("", "工商管理"),
        "非全日制入学日期": ("", "2015-09-01"),
        "非全日制毕业日期": ("", "2018-07-01"),
    }
    assert Education.objects.get(archive=collected, mode=EducationMode.FULL_TIME).school == "贵州大学"

    blank = {f"pt-{f}": "" for f in ("level", "degree", "school", "major", "start_date", "graduation_date")}
    response = save(client, "education", blank)
    assert response.status_code == 302, page_errors(response)
    assert not Education.objects.filter(archive=collected, mode=EducationMode.PART_TIME).exists()
    latest = records(collected.user)[-1]
    assert changes_by_label(latest)["非全日制毕业院校"] == ("贵州大学", "")
    assert len(latest.changes) == 6


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"ft-graduation_date": "2007-07-01"}, "ft-graduation_date", "毕业日期应晚于入学日期。"),
    ({"ft-school": ""}, "ft-school", "此项为必填项。"),
    ({"ft-start_date": "2099-09-01", "ft-graduation_date": "2100-07-01"}, "ft-start_date", "入学日期不能晚于今天。"),
    ({"pt-school": "贵州大学"}, "pt-level", "此项为必填项。"),  # part-time: all or nothing
])
def test_education_validation_is_the_wizards(client, collected, changes, field, message):
    response = save(client, "education", changes)
    assert_refused(response, collected)
    assert message in page_errors(response)[field][0]
    values = form_values(response)
    assert all(values[k] == v for k, v in changes.items())
    assert Education.objects.get(archive=collected, mode=EducationMode.FULL_TIME).school == "贵州财经大学"
    assert not Education.objects.filter(archive=collected, mode=EducationMode.PART_TIME).exists()


# --- 专业技术信息 -----------------------------------------------------------------------------

QUALIFICATION_SHOWN = "会计类，中级，考试，2016-05-20，Z2**********23"
AWARD_SHOWN = "全省先进会计工作者，省部级，2019-12-01，贵州省财政厅"
TALENT_SHOWN = "高端会计人才，入选年度 2015，第 3 期，已毕业，毕业年度 2018"


def rows(prefix: str, items: list[dict], *, initial: int) -> dict:
    data = {f"{prefix}-TOTAL_FORMS": str(len(items)), f"{prefix}-INITIAL_FORMS": str(initial)}
    for i, row in enumerate(items):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


def test_professional_item_page_masks_certificate_numbers(client, collected):
    html = text(client.get(item_url("professional")))
    assert QUALIFICATION_SHOWN in html and QUALIFICATION["certificate_number"] not in html
    for label in ("是否注册会计师", "是否税务师", "是否资产评估师", "珠算等级", "专业技术资格"):
        assert label in html


def test_professional_edit_shows_the_wizards_fields_and_the_saved_rows(client, collected, wizard_page):
    change, wizard = client.get(edit_url("professional")), wizard_page("professional")
    for select in ("is_cpa", "abacus_level", "qualifications-__prefix__-level", "talents-__prefix__-status",
                   "awards-__prefix__-level"):
        assert options(change, select) == options(wizard, select), select
    wizard_labels = {k: v for k, v in labels_of(wizard).items() if "__prefix__" in k or "-" not in k}
    assert {k: labels_of(change).get(k) for k in wizard_labels} == wizard_labels
    values = form_values(change)
    assert values["qualifications-INITIAL_FORMS"] == "1"
    assert values["qualifications-0-certificate_number"] == QUALIFICATION["certificate_number"]
    assert "qualifications-0-DELETE" in values
    assert ">新增</button>" in text(change)


def test_add_a_row(client, collected):
    response = save(client, "professional", rows("awards", [AWARD], initial=0))
    assert response.status_code == 302, page_errors(response)
    record = only_record(collected.user)
    assert record.item == "professional"
    assert record.changes == [{"field": "awards", "label": "奖励信息", "old": "", "new": AWARD_SHOWN}]
    assert Award.objects.filter(archive=collected).count() == 1
    assert ProfessionalQualification.objects.filter(archive=collected).count() == 1


def test_add_a_talent_and_change_a_certification(client, collected):
    response = save(client, "professional", {**rows("talents", [TALENT], initial=0), "is_cpa": "true",
                                             "abacus_level": "expert"})
    assert response.status_code == 302, page_errors(response)
    assert changes_by_label(only_record(collected.user)) == {
        "是否注册会计师": ("否", "是"), "珠算等级": ("无", "能手级"), "高端会计人才": ("", TALENT_SHOWN)}
    assert Archive.objects.get(pk=collected.pk).is_cpa is True


def test_edit_a_row(client, collected):
    response = save(client, "professional", {"qualifications-0-level": "senior",
                                             "qualifications-0-method": "review"})
    assert response.status_code == 302, page_errors(response)
    record = only_record(collected.user)
    edited = "会计类，高级，评审，2016-05-20，Z2**********23"
    assert {(c["label"], c["old"], c["new"]) for c in record.changes} == {
        ("专业技术资格", QUALIFICATION_SHOWN, ""), ("专业技术资格", "", edited)}
    assert list(ProfessionalQualification.objects.filter(archive=collected).values_list("level", "method")) == [
        ("senior", "review")]


def test_remove_a_row(client, collected):
    response = save(client, "professional", {"qualifications-0-DELETE": "on"})
    assert response.status_code == 302, page_errors(response)
    record = only_record(collected.user)
    assert record.changes == [{"field": "qualifications", "label": "专业技术资格", "old": QUALIFICATION_SHOWN,
                               "new": ""}]
    assert not ProfessionalQualification.objects.filter(archive=collected).exists()


def test_certificate_numbers_are_masked_in_the_record_and_history(client, collected):
    number = "黔会2021000456789"
    save(client, "professional", {"qualifications-0-certificate_number": number})
    record = only_record(collected.user)
    stored = json.dumps(record.changes, ensure_ascii=False)
    assert QUALIFICATION["certificate_number"] not in stored and number not in stored
    assert "黔会" + "*" * (len(number) - 4) + "89" in stored
    history = text(client.get("/changes/history/"))
    assert number not in history and QUALIFICATION["certificate_number"] not in history


def test_a_certificate_number_changed_where_the_mask_hides_it_is_still_saved(client, collected):
    # Z2016520100123 → Z2016529900123 looks the same masked (Z2**********23): still a change.
    response = save(client, "professional", {"qualifications-0-certificate_number": "Z2016529900123"})
    assert response.status_code == 302 and "没有修改任何信息" not in " ".join(messages_of(response))
    assert ProfessionalQualification.objects.get(archive=collected).certificate_number == "Z2016529900123"
    assert len(only_record(collected.user).changes) == 2  # the row as it was, and as it is


def test_a_duplicate_row_can_be_added_and_removed(client, collected):
    response = save(client, "professional", rows("qualifications", [QUALIFICATION, QUALIFICATION], initial=1))
    assert response.status_code == 302, page_errors(response)
    assert ProfessionalQualification.objects.filter(archive=collected).count() == 2
    assert only_record(collected.user).changes == [
        {"field": "qualifications", "label": "专业技术资格", "old": "", "new": QUALIFICATION_SHOWN}]

    response = save(client, "professional", {"qualifications-1-DELETE": "on"})
    assert response.status_code == 302, page_errors(response)
    assert ProfessionalQualification.objects.filter(archive=collected).count() == 1
    assert records(collected.user)[-1].changes == [
        {"field": "qualifications", "label": "专业技术资格", "old": QUALIFICATION_SHOWN, "new": ""}]


def test_add_row_without_javascript_round_trip(client, collected):
    data = form_values(client.get(edit_url("professional")))
    data.update({"is_cpa": "true", "qualifications-0-certificate_number": "TYPED-1"})
    response = client.post(edit_url("professional"), {**data, "add": "talents"})
    assert response.status_code == 200
    page = parse(response)
    assert page.values["talents-TOTAL_FORMS"] == "1" and "talents-0-status" in page.selects
    assert page.values["qualifications-0-certificate_number"] == "TYPED-1"
    assert page.selected["is_cpa"] == ["true"]
    assert page.values["version"] == str(collected.version)
    assert not page_errors(response)  # 新增 is not a save: no error noise on the empty row
    assert not records(collected.user) and current_version(collected.user) == collected.version
    assert not HighEndTalent.objects.exists()

    # fill the added row in and 保存
    data = form_values(response)
    data.update({f"talents-0-{k}": v for k, v in TALENT.items()})
    response = client.post(edit_url("professional"), data)
    assert response.status_code == 302, page_errors(response)
    assert changes_by_label(only_record(collected.user)) == {
        "是否注册会计师": ("否", "是"), "高端会计人才": ("", TALENT_SHOWN),
        "专业技术资格": ("", "会计类，中级，考试，2016-05-20，TY***-1")}
    assert HighEndTalent.objects.filter(archive=collected).count() == 1


@pytest.mark.parametrize(("row", "field", "message"), [
    ({**TALENT, "status": "in_training"}, "talents-0-graduation_year", "只有“已毕业”才填写毕业年度。"),
    ({**TALENT, "graduation_year": ""}, "talents-0-graduation_year", "须填写毕业年度"),
    ({**TALENT, "graduation_year": "2010"}, "talents-0-graduation_year", "毕业年度不能早于入选年度。"),
    ({**TALENT, "selected_year": "1980"}, "talents-0-selected_year", "年份应在 1990 年至今年之间。"),
])
def test_talent_validation_is_the_wizards(client, collected, row, field, message):
    response = save(client, "professional", rows("talents", [row], initial=0))
    assert_refused(response, collected)
    assert message in page_errors(response)[field][0]
    assert form_values(response)["talents-0-batch"] == row["batch"]  # typed values kept
    assert not HighEndTalent.objects.exists()


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"qualifications-0-obtained_on": "1940-01-01"}, "qualifications-0-obtained_on", "1950"),
    ({"qualifications-0-certificate_number": ""}, "qualifications-0-certificate_number", "此项为必填项。"),
    ({"awards-TOTAL_FORMS": "1", **{f"awards-0-{k}": v for k, v in {**AWARD, "awarded_on": "2999-01-01"}.items()}},
     "awards-0-awarded_on", "获奖日期不能晚于今天。"),
    ({"is_cpa": ""}, "is_cpa", "此项为必填项。"),
])
def test_professional_validation_is_the_wizards(client, collected, changes, field, message):
    response = save(client, "professional", changes)
    assert_refused(response, collected)
    assert message in page_errors(response)[field][0]
    assert ProfessionalQualification.objects.get(archive=collected).certificate_number == "Z2016520100123"


def test_too_many_rows_are_refused(client, collected):
    response = save(client, "professional", rows("qualifications", [QUALIFICATION] * 21, initial=1))
    assert_refused(response, collected)
    assert ProfessionalQualification.objects.filter(archive=collected).count() == 1


# --- 工作信息 --------------------------------------------------------------------------------


def test_work_item_page_and_edit_page(client, collected, wizard_page):
    html = text(client.get(item_url("work")))
    for value in ("会计工作岗位", "贵阳市 云岩区", "贵州某某会计师事务所"):
        assert value in html
    change, wizard = client.get(edit_url("work")), wizard_page("work")
    wizard_labels = labels_of(wizard)
    assert {"id_prefecture", "id_county", "id_employer", "id_school", "id_student_card"} <= set(wizard_labels)
    assert {k: labels_of(change).get(k) for k in wizard_labels} == wizard_labels
    assert options(change, "prefecture") == options(wizard, "prefecture")
    assert parse(change).selects["county"] == parse(wizard).selects["county"]
    values = form_values(change)
    assert values["county"] == str(division("云岩区").pk) and values["employment_status"] == "accounting"


def test_work_change_of_employer(client, collected):
    response = save(client, "work", {"employer": "贵州另一家公司", "employment_status": "non_accounting"})
    assert response.status_code == 302, page_errors(response)
    record = only_record(collected.user)
    assert record.item == "work" and record.ip_address == IP
    assert changes_by_label(record) == {"在岗状态": ("会计工作岗位", "非会计工作岗位"),
                                        "工作单位": ("贵州某某会计师事务所", "贵州另一家公司")}


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"prefecture": "PROVINCE", "county": ""}, "provincial_declaration", "请勾选声明"),
    ({"employment_status": "student", "school": "贵州财经大学", "employer": ""}, "student_card",
     "在校生须上传学生证。"),
    ({"employment_status": "student", "school": ""}, "school", "请填写学校名称。"),
    ({"employer": ""}, "employer", "请填写工作单位。"),
    ({"county": "OTHER_PREFECTURE"}, "county", "不属于所选市（州）"),
])
def test_work_validation_is_the_wizards(client, collected, changes, field, message):
    special = {"PROVINCE": str(division("贵州省").pk), "OTHER_PREFECTURE": str(division("汇川区").pk)}
    changes = {k: special.get(v, v) for k, v in changes.items()}
    response = save(client, "work", changes)
    assert_refused(response, collected)
    assert message in page_errors(response)[field][0]
    values = form_values(response)
    assert all(values.get(k, "") == v for k, v in changes.items() if k != "student_card")
    archive = Archive.objects.get(pk=collected.pk)
    assert (archive.division_id, archive.employment_status) == (collected.division_id, "accounting")


def test_provincial_level_with_the_declaration(client, collected):
    response = save(client, "work", {"prefecture": division("贵州省").pk, "county": "",
                                     "provincial_declaration": "on"})
    assert response.status_code == 302, page_errors(response)
    archive = Archive.objects.get(pk=collected.pk)
    assert archive.division.is_provincial_level and archive.provincial_declaration
    assert changes_by_label(only_record(collected.user)) == {"所属行政区划": ("贵阳市 云岩区", "省本级")}


def test_student_with_card_then_employed_again_drops_the_card(client, collected, django_capture_on_commit_callbacks):
    response = save(client, "work", {"employment_status": "student", "school": "贵州财经大学",
                                     "student_card": document_upload()})
    assert response.status_code == 302, page_errors(response)
    archive = Archive.objects.get(pk=collected.pk)
    card = archive.student_card.name
    assert card and archive.employer == ""
    assert changes_by_label(only_record(collected.user)) == {
        "在岗状态": ("会计工作岗位", "在校生"), "工作单位": ("贵州某某会计师事务所", ""),
        "学校": ("", "贵州财经大学"), "学生证": ("", base_name(card))}

    with django_capture_on_commit_callbacks(execute=True):
        response = save(client, "work", {"employment_status": "accounting", "employer": "毕业后的单位"})
    assert response.status_code == 302, page_errors(response)
    archive.refresh_from_db()
    assert not archive.student_card and archive.school == ""
    assert not default_storage.exists(card)
    assert changes_by_label(records(collected.user)[-1])["学生证"] == (base_name(card), "")
