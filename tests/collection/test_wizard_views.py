"""The 信息采集 wizard through its pages: each step's validation, the order rule,
上一步 and drafts, 新增/删除 rows, resuming on another device, review and submit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.identity import CHINA, IdType
from collection.models import (
    Archive,
    ArchiveStatus,
    Award,
    Division,
    Education,
    EducationMode,
    HighEndTalent,
    ProfessionalQualification,
)
from tests.accounts.test_views import log_in
from tests.collection.steps import (
    AWARD,
    QUALIFICATION,
    STEPS,
    TALENT,
    archive_of,
    complete,
    complete_until,
    division,
    education_data,
    formset_data,
    page_errors,
    parse,
    personal_data,
    professional_data,
    unique_digits,
    url,
    work_data,
)
from tests.factories import AccountFactory
from tests.images import document_upload

pytestmark = pytest.mark.django_db

START = reverse("collection:start")
STATUS = reverse("collection:status")
HOME = reverse("accounts:home")
TODAY = timezone.localdate()
TOMORROW = (TODAY + dt.timedelta(days=1)).isoformat()


def _text(response) -> str:
    return response.content.decode()


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- 阅读须知 ------------------------------------------------------------------------------


def test_start_sends_a_new_person_to_the_notice(client, person):
    assert client.get(STATUS).context["status_label"] == "未采集"
    response = client.get(START)
    assert response.status_code == 302 and response.url == url("notice")
    page = client.get(url("notice"))
    html = _text(page)
    for required in ("身份证人像面", "身份证国徽面", "免冠证件照", "学生证"):
        assert required in html
    assert parse(page).labels["promise"] == "承诺填写信息的真实性"
    assert ">下一步</button>" in html


def test_notice_needs_the_promise(client, person):
    response = client.post(url("notice"), {})
    assert response.status_code == 200
    assert "勾选“承诺填写信息的真实性”" in page_errors(response)["__all__"][0]
    assert not Archive.objects.exists()

    response = client.post(url("notice"), {"promise": "on"})
    assert response.url == url("personal")
    archive = archive_of(person)
    assert archive.status == ArchiveStatus.DRAFT and archive.notice_accepted_at is not None
    assert client.get(STATUS).context["status_label"] == "采集中"
    assert ("promise", "on") in parse(client.get(url("notice"))).checked


@pytest.mark.parametrize("name", [*STEPS, "start", "status"])
def test_every_page_needs_login(client, name):
    response = client.get(reverse(f"collection:{name}"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


# --- 个人信息 ------------------------------------------------------------------------------


def test_personal_shows_the_locked_identity_fields_and_masks_the_number(client, person):
    complete_until(client, "personal")
    page = client.get(url("personal"))
    html = _text(page)
    born = person.birth_date.isoformat()
    for shown in (person.name, person.get_gender_display(), born, CHINA, "居民身份证", person.id_number_masked):
        assert shown in html
    assert person.plain_id_number not in html
    fields = set(parse(page).values) | set(parse(page).selects)
    assert not {"gender", "birth_date", "nationality", "name", "id_number"} & fields
    assert {"ethnicity", "political_status", "email"} <= fields
    assert 'type="file" name="photo"' in html and 'accept="image/jpeg,image/png"' in html


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"ethnicity": ""}, "ethnicity", "此项为必填项"),
        ({"ethnicity": "999999"}, "ethnicity", ""),
        ({"political_status": ""}, "political_status", "此项为必填项"),
        ({"political_status": "abc"}, "political_status", ""),
        ({"email": ""}, "email", "此项为必填项"),
        ({"email": "zhang@"}, "email", "有效的电子邮箱"),
        ({"photo": None}, "photo", "请上传免冠证件照"),
        ({"id_card_front": None}, "id_card_front", "请上传身份证人像面"),
        ({"id_card_back": None}, "id_card_back", "请上传身份证国徽面"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_personal_validation(client, person, override, field, message):
    complete_until(client, "personal")
    data = {k: v for k, v in personal_data(**override).items() if v is not None}
    response = client.post(url("personal"), data)
    assert response.status_code == 200
    errors = page_errors(response)
    assert field in errors and message in errors[field][0]
    assert not archive_of(person).personal_done


def test_personal_saves_and_moves_on(client, person):
    complete_until(client, "personal")
    data = personal_data(ethnicity=None)
    data["ethnicity"] = parse(client.get(url("personal"))).selects["ethnicity"][-1][0]  # the last: 革家人
    response = client.post(url("personal"), data)
    assert response.url == url("education")
    archive = archive_of(person)
    assert archive.personal_done and archive.ethnicity.name == "革家人"
    assert archive.political_status.name == "群众" and archive.email == "zhang.san@example.com"
    assert archive.photo and archive.id_card_front and archive.id_card_back
    person.refresh_from_db()
    assert person.nationality == CHINA


def test_passport_holder_enters_gender_birth_date_and_nationality_once(client, reference_data, passport_holder):
    client.force_login(passport_holder)
    complete_until(client, "personal")
    page = parse(client.get(url("personal")))
    assert [label for value, label, _g in page.selects["gender"] if value] == ["男", "女"]
    assert {"birth_date", "nationality"} <= set(page.values)

    response = client.post(url("personal"), personal_data())
    errors = page_errors(response)
    assert {"gender", "birth_date", "nationality"} <= set(errors)
    response = client.post(url("personal"), personal_data(gender="female", birth_date=TOMORROW, nationality="新加坡"))
    assert "有效的出生日期" in page_errors(response)["birth_date"][0]

    response = client.post(url("personal"), personal_data(gender="female", birth_date="1988-02-29",
                                                          nationality="新加坡"))
    assert response.url == url("education")
    passport_holder.refresh_from_db()
    assert (passport_holder.gender, passport_holder.birth_date, passport_holder.nationality) == (
        "female", dt.date(1988, 2, 29), "新加坡")

    page = client.get(url("personal"))
    assert not {"gender", "birth_date", "nationality"} & (set(parse(page).values) | set(parse(page).selects))
    assert "1988-02-29" in _text(page) and "新加坡" in _text(page)
    # a crafted post cannot change them
    client.post(url("personal"), personal_data(gender="male", birth_date="1990-01-01", nationality="美国"))
    passport_holder.refresh_from_db()
    assert (passport_holder.gender, passport_holder.birth_date, passport_holder.nationality) == (
        "female", dt.date(1988, 2, 29), "新加坡")


def test_travel_permit_holder_enters_gender_and_birth_date_but_is_chinese(client, reference_data):
    holder = AccountFactory(id_type=IdType.HK_MACAO_MAINLAND_TRAVEL_PERMIT, id_number=f"H{unique_digits(8)}")
    client.force_login(holder)
    complete_until(client, "personal")
    page = parse(client.get(url("personal")))
    assert "gender" in page.selects and "birth_date" in page.values and "nationality" not in page.values
    response = client.post(url("personal"), personal_data(gender="male", birth_date="1985-06-01"))
    assert response.url == url("education")
    holder.refresh_from_db()
    assert (holder.gender, holder.birth_date, holder.nationality) == ("male", dt.date(1985, 6, 1), CHINA)


def test_failed_personal_step_keeps_what_was_typed_and_uploaded(client, person):
    complete_until(client, "personal")
    response = client.post(url("personal"), personal_data(email="not-an-email"))
    assert response.status_code == 200 and "email" in page_errors(response)
    archive = archive_of(person)
    assert archive.photo and archive.id_card_front and archive.id_card_back  # valid uploads stored at once
    assert not archive.personal_done
    page = parse(response)
    assert page.values["email"] == "not-an-email"
    assert page.selected["ethnicity"] == [str(personal_data()["ethnicity"])]
    assert f'src="{reverse("collection:upload", args=["photo"])}?v=' in _text(response)

    # the next 下一步 needs no new upload
    response = client.post(url("personal"), personal_data(uploads=False))
    assert response.url == url("education")
    assert archive_of(person).photo.name == archive.photo.name


# --- 学历信息 ------------------------------------------------------------------------------


def test_education_full_time_only(client, person):
    complete_until(client, "education")
    response = client.post(url("education"), education_data())
    assert response.url == url("professional")
    archive = archive_of(person)
    assert archive.education_done
    full = archive.educations.get()
    assert full.mode == EducationMode.FULL_TIME and full.school == "贵州财经大学" and full.level.name == "大学本科"
    assert (full.start_date, full.graduation_date) == (dt.date(2008, 9, 1), dt.date(2012, 7, 1))


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"ft-level": ""}, "ft-level", "此项为必填项"),
        ({"ft-degree": "0"}, "ft-degree", ""),
        ({"ft-school": ""}, "ft-school", "此项为必填项"),
        ({"ft-major": ""}, "ft-major", "此项为必填项"),
        ({"ft-start_date": "2008-02-30"}, "ft-start_date", "有效日期"),
        ({"ft-graduation_date": ""}, "ft-graduation_date", "此项为必填项"),
        ({"ft-graduation_date": "2008-09-01"}, "ft-graduation_date", "毕业日期应晚于入学日期"),
        ({"ft-graduation_date": "2007-07-01"}, "ft-graduation_date", "毕业日期应晚于入学日期"),
        ({"ft-start_date": TOMORROW, "ft-graduation_date": "2099-07-01"}, "ft-start_date", "不能晚于今天"),
        ({"pt-school": "贵州大学"}, "pt-level", "此项为必填项"),  # 非全日制: all or nothing
        ({"pt-graduation_date": "2018-07-01"}, "pt-major", "此项为必填项"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_education_validation(client, person, override, field, message):
    complete_until(client, "education")
    response = client.post(url("education"), education_data(**override))
    assert response.status_code == 200
    errors = page_errors(response)
    assert field in errors and message in errors[field][0]
    assert not Education.objects.exists() and not archive_of(person).education_done


def test_part_time_education_saved_and_removed_when_blanked(client, person):
    complete_until(client, "education")
    client.post(url("education"), education_data(part_time=True))
    archive = archive_of(person)
    assert set(archive.educations.values_list("mode", flat=True)) == {"full_time", "part_time"}
    part = archive.educations.get(mode=EducationMode.PART_TIME)
    assert part.school == "贵州大学" and part.degree.name == "硕士"

    page = parse(client.get(url("education")))
    assert page.values["pt-school"] == "贵州大学"  # saved data shown again
    response = client.post(url("education"), education_data())
    assert response.url == url("professional")
    assert list(archive.educations.values_list("mode", flat=True)) == ["full_time"]


def test_part_time_dates_are_ordered_too(client, person):
    complete_until(client, "education")
    data = education_data(part_time=True, **{"pt-graduation_date": "2015-01-01"})
    assert "pt-graduation_date" in page_errors(client.post(url("education"), data))


# --- 专业技术信息 --------------------------------------------------------------------------


def test_professional_saves_certifications_and_rows(client, person):
    complete_until(client, "professional")
    data = professional_data(qualifications=[QUALIFICATION, {**QUALIFICATION, "level": "senior",
                                                              "method": "review", "certificate_number": "黔2020"}],
                             talents=[TALENT], awards=[AWARD], is_cpa="true", abacus_level="expert")
    response = client.post(url("professional"), data)
    assert response.url == url("work")
    archive = archive_of(person)
    assert (archive.is_cpa, archive.is_tax_agent, archive.is_asset_appraiser) == (True, False, False)
    assert archive.abacus_level == "expert" and archive.professional_done
    assert sorted(archive.qualifications.values_list("level", "method")) == [
        ("intermediate", "exam"), ("senior", "review")]
    talent = archive.talents.get()
    assert (talent.status, talent.selected_year, talent.graduation_year) == ("graduated", 2015, 2018)
    assert archive.awards.get().issuer == "贵州省财政厅"


def test_professional_with_no_rows_at_all(client, person):
    complete_until(client, "professional")
    assert client.post(url("professional"), professional_data()).url == url("work")
    assert not ProfessionalQualification.objects.exists() and archive_of(person).professional_done


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"is_cpa": ""}, "is_cpa", "此项为必填项"),
        ({"is_tax_agent": "maybe"}, "is_tax_agent", ""),
        ({"is_asset_appraiser": ""}, "is_asset_appraiser", "此项为必填项"),
        ({"abacus_level": ""}, "abacus_level", "此项为必填项"),
        ({"abacus_level": "7"}, "abacus_level", ""),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_certification_validation(client, person, override, field, message):
    complete_until(client, "professional")
    response = client.post(url("professional"), professional_data(**override))
    errors = page_errors(response)
    assert field in errors and message in errors[field][0]
    assert not archive_of(person).professional_done


def _row_error(client, prefix, row, field) -> str:
    """The first error shown on `field` of the only row of `prefix`."""
    response = client.post(url("professional"), professional_data(**{prefix: [row]}))
    assert response.status_code == 200
    errors = page_errors(response)
    assert f"{prefix}-0-{field}" in errors, errors
    return errors[f"{prefix}-0-{field}"][0]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"qualification_type": "law"}, "qualification_type", ""),
        ({"qualification_type": ""}, "qualification_type", "此项为必填项"),
        ({"level": "chief"}, "level", ""),
        ({"method": "purchase"}, "method", ""),
        ({"obtained_on": TOMORROW}, "obtained_on", "1950"),
        ({"obtained_on": "1949-12-31"}, "obtained_on", "1950"),
        ({"obtained_on": "2016-13-01"}, "obtained_on", "有效日期"),
        ({"certificate_number": ""}, "certificate_number", "此项为必填项"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_qualification_row_validation(client, person, changes, field, message):
    complete_until(client, "professional")
    assert message in _row_error(client, "qualifications", {**QUALIFICATION, **changes}, field)
    assert not ProfessionalQualification.objects.exists() and not archive_of(person).professional_done


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"graduation_year": ""}, "graduation_year", "须填写毕业年度"),
        ({"status": "in_training"}, "graduation_year", "只有“已毕业”才填写毕业年度"),
        ({"status": "eliminated"}, "graduation_year", "只有“已毕业”才填写毕业年度"),
        ({"status": "removed"}, "graduation_year", "只有“已毕业”才填写毕业年度"),
        ({"graduation_year": "2014"}, "graduation_year", "不能早于入选年度"),
        ({"selected_year": "1989"}, "selected_year", "1990"),
        ({"selected_year": str(TODAY.year + 1), "graduation_year": ""}, "selected_year", "1990"),
        ({"selected_year": "二〇一五"}, "selected_year", "四位年份"),
        ({"talent_type": "local"}, "talent_type", ""),
        ({"status": "paused"}, "status", ""),
        ({"batch": ""}, "batch", "此项为必填项"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_talent_row_validation(client, person, changes, field, message):
    complete_until(client, "professional")
    assert message in _row_error(client, "talents", {**TALENT, **changes}, field)
    assert not HighEndTalent.objects.exists()


@pytest.mark.parametrize("status", ["in_training", "eliminated", "removed"])
def test_talent_not_graduated_without_a_year_is_fine(client, person, status):
    complete_until(client, "professional")
    row = {**TALENT, "status": status, "graduation_year": ""}
    assert client.post(url("professional"), professional_data(talents=[row])).url == url("work")
    assert HighEndTalent.objects.get().graduation_year is None


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"content": ""}, "content", "此项为必填项"),
        ({"level": "county"}, "level", ""),
        ({"awarded_on": TOMORROW}, "awarded_on", "不能晚于今天"),
        ({"issuer": ""}, "issuer", "此项为必填项"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_award_row_validation(client, person, changes, field, message):
    complete_until(client, "professional")
    assert message in _row_error(client, "awards", {**AWARD, **changes}, field)
    assert not Award.objects.exists()


def test_award_remark_and_other_credit_info_are_optional(client, person):
    complete_until(client, "professional")
    response = client.post(url("professional"), professional_data(awards=[AWARD]))
    assert response.url == url("work")
    award = Award.objects.get()
    assert (award.remark, award.other_credit_info) == ("", "")


def test_too_many_rows_are_refused(client, person):
    complete_until(client, "professional")
    data = professional_data(qualifications=[QUALIFICATION] * 21)
    response = client.post(url("professional"), data)
    assert response.status_code == 200 and not ProfessionalQualification.objects.exists()
    assert "20" in page_errors(response)["__all__"][0]
    assert client.post(url("professional"), professional_data(qualifications=[QUALIFICATION] * 20)).status_code == 302


def test_add_row_without_javascript_keeps_what_was_typed(client, person):
    complete_until(client, "professional")
    data = professional_data(qualifications=[{**QUALIFICATION, "certificate_number": "TYPED-1"}],
                             is_cpa="true", abacus_level="3")
    data.pop("nav")
    response = client.post(url("professional"), {**data, "add": "qualifications"})
    assert response.status_code == 200
    page = parse(response)
    assert page.values["qualifications-TOTAL_FORMS"] == "2"
    assert page.values["qualifications-0-certificate_number"] == "TYPED-1"
    assert page.values["qualifications-1-certificate_number"] == ""
    assert "qualifications-1-qualification_type" in page.selects
    assert page.selected["is_cpa"] == ["true"] and page.selected["abacus_level"] == ["3"]
    assert not page_errors(response)  # 新增 is not a submit: no error noise on the empty row
    assert not ProfessionalQualification.objects.exists()  # nothing saved yet
    assert archive_of(person).step_drafts["professional"]["qualifications-TOTAL_FORMS"] == ["2"]

    # the other two lists work the same way
    for prefix, select in (("talents", "talents-0-status"), ("awards", "awards-0-level")):
        page = parse(client.post(url("professional"), {**data, "add": prefix}))
        assert page.values[f"{prefix}-TOTAL_FORMS"] == "1" and select in page.selects

    # the added row filled in and 下一步: both rows saved
    data.update(formset_data("qualifications", [{**QUALIFICATION, "certificate_number": "TYPED-1"},
                                                {**QUALIFICATION, "certificate_number": "TYPED-2"}]))
    assert client.post(url("professional"), {**data, "nav": "next"}).url == url("work")
    assert sorted(ProfessionalQualification.objects.values_list("certificate_number", flat=True)) == [
        "TYPED-1", "TYPED-2"]
    assert "professional" not in archive_of(person).step_drafts


def test_add_row_with_a_tampered_count_still_answers(client, person):
    complete_until(client, "professional")
    data = professional_data(add="qualifications", **{"qualifications-TOTAL_FORMS": "abc"})
    data.pop("nav")
    response = client.post(url("professional"), data)
    assert response.status_code == 200
    assert parse(response).values["qualifications-TOTAL_FORMS"] == "1"


def test_a_huge_posted_row_count_builds_no_more_than_the_limit(client, person):
    complete_until(client, "professional")
    data = professional_data(**{"qualifications-TOTAL_FORMS": "5000"})
    response = client.post(url("professional"), data)
    assert response.status_code == 200 and not ProfessionalQualification.objects.exists()
    rows = [name for name in parse(response).selects if name.startswith("qualifications-") and
            name.endswith("-level") and "__prefix__" not in name]
    assert 0 < len(rows) <= 20
    data["add"] = "qualifications"
    page = parse(client.post(url("professional"), data))
    assert page.values["qualifications-TOTAL_FORMS"] == "20"  # 新增 stops at the limit


def test_an_added_row_left_empty_is_ignored(client, person):
    complete_until(client, "professional")
    data = professional_data(qualifications=[QUALIFICATION, dict.fromkeys(QUALIFICATION, "")])
    assert client.post(url("professional"), data).url == url("work")
    assert ProfessionalQualification.objects.count() == 1


def test_delete_a_row(client, person):
    complete_until(client, "professional")
    rows = [{**QUALIFICATION, "certificate_number": "KEEP"}, {**QUALIFICATION, "certificate_number": "DROP"}]
    client.post(url("professional"), professional_data(qualifications=rows, talents=[TALENT], awards=[AWARD]))
    assert ProfessionalQualification.objects.count() == 2

    page = parse(client.get(url("professional")))  # saved rows come back as the formset's initial rows
    assert page.values["qualifications-INITIAL_FORMS"] == "2"
    assert page.values["qualifications-1-certificate_number"] == "DROP"
    assert "qualifications-1-DELETE" in page.values

    data = professional_data(talents=[TALENT], awards=[AWARD])
    data.update(formset_data("qualifications", [rows[0], {**rows[1], "DELETE": "on"}], initial=2))
    assert client.post(url("professional"), data).url == url("work")
    assert list(ProfessionalQualification.objects.values_list("certificate_number", flat=True)) == ["KEEP"]

    # a row marked for deletion is not validated: a broken deleted row does not block 下一步
    data = professional_data(awards=[AWARD])
    data.update(formset_data("talents", [{**TALENT, "graduation_year": "", "DELETE": "on"}], initial=1))
    data.update(formset_data("qualifications", [rows[0]], initial=1))
    assert client.post(url("professional"), data).url == url("work")
    assert not HighEndTalent.objects.exists() and Award.objects.count() == 1


# --- 工作信息 ------------------------------------------------------------------------------


def test_work_accounting_post_in_a_county(client, person):
    complete_until(client, "work")
    response = client.post(url("work"), work_data())
    assert response.url == url("review")
    archive = archive_of(person)
    assert archive.work_done and archive.employment_status == "accounting"
    assert archive.division == division("云岩区") and archive.employer == "贵州某某会计师事务所"
    assert archive.school == "" and not archive.provincial_declaration


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"employment_status": ""}, "employment_status", "此项为必填项"),
        ({"employment_status": "retired"}, "employment_status", ""),
        ({"prefecture": ""}, "prefecture", "此项为必填项"),
        ({"county": ""}, "county", "请选择县（市、区）"),
        ({"county": "999999"}, "county", ""),
        ({"employer": "  "}, "employer", "请填写工作单位"),
        ({"employment_status": "non_accounting", "employer": ""}, "employer", "请填写工作单位"),
        ({"employment_status": "student", "school": "", "student_card": document_upload()}, "school", "学校"),
        ({"employment_status": "student", "school": "贵州大学"}, "student_card", "在校生须上传学生证"),
        ({"prefecture": "520000", "county": ""}, "provincial_declaration", "省本级"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_work_validation(client, person, override, field, message):
    complete_until(client, "work")
    if override.get("prefecture") == "520000":
        override["prefecture"] = Division.objects.get(code="520000").pk
    response = client.post(url("work"), work_data(**override))
    assert response.status_code == 200
    errors = page_errors(response)
    assert field in errors and message in errors[field][0]
    assert not archive_of(person).work_done and archive_of(person).division is None


def test_county_must_belong_to_the_prefecture(client, person):
    complete_until(client, "work")
    response = client.post(url("work"), work_data(prefecture=division("遵义市").pk))  # 云岩区 is in 贵阳市
    assert "不属于所选市（州）" in page_errors(response)["county"][0]
    response = client.post(url("work"), work_data(county=division("遵义市").pk))  # a prefecture is no county
    assert "county" in page_errors(response)
    assert not archive_of(person).work_done


def test_provincial_level_with_the_declaration(client, person):
    complete_until(client, "work")
    province = Division.objects.get(code="520000")
    response = client.post(url("work"), work_data(prefecture=province.pk, county="", employer="贵州省财政厅",
                                                  provincial_declaration="on"))
    assert response.url == url("review")
    archive = archive_of(person)
    assert archive.division == province and archive.provincial_declaration


def test_unemployed_needs_no_employer_and_keeps_none(client, person):
    complete_until(client, "work")
    response = client.post(url("work"), work_data(employment_status="unemployed", employer="旧单位",
                                                  prefecture=division("毕节市").pk, county=division("织金县").pk))
    assert response.url == url("review")
    archive = archive_of(person)
    assert archive.employment_status == "unemployed" and archive.employer == ""
    assert str(archive.division) == "毕节市 织金县"


def test_student_with_school_and_card(client, person):
    complete_until(client, "work")
    response = client.post(url("work"), work_data(employment_status="student", employer="", school="贵州大学",
                                                  student_card=document_upload()))
    assert response.url == url("review")
    archive = archive_of(person)
    assert archive.school == "贵州大学" and archive.student_card and archive.employer == ""


def test_failed_work_step_keeps_the_student_card(client, person):
    complete_until(client, "work")
    response = client.post(url("work"), work_data(employment_status="student", school="", employer="",
                                                  student_card=document_upload()))
    assert "school" in page_errors(response)
    assert archive_of(person).student_card  # stored although the step failed
    response = client.post(url("work"), work_data(employment_status="student", school="贵州大学", employer=""))
    assert response.url == url("review")


# --- the order rule -----------------------------------------------------------------------


@pytest.mark.parametrize("done", range(5))
def test_later_steps_redirect_to_the_first_open_step(client, person, done):
    complete(client, *STEPS[:done])
    first_open = url(STEPS[done])
    for step in STEPS[done + 1:]:
        for response in (client.get(url(step)), client.post(url(step), {"nav": "next"})):
            assert response.status_code == 302 and response.url == first_open, step
    assert client.get(START).url == first_open
    if done == 0:
        assert not Archive.objects.exists()  # nothing starts without the promise


def test_posting_a_later_step_first_saves_nothing(client, person):
    complete(client, "notice")
    client.post(url("work"), work_data())
    client.post(url("professional"), professional_data(qualifications=[QUALIFICATION]))
    client.post(url("review"), {"nav": "next"})
    archive = archive_of(person)
    assert archive.division is None and not archive.work_done
    assert not ProfessionalQualification.objects.exists()
    assert archive.status == ArchiveStatus.DRAFT
    client.logout()
    other = Client()
    other.force_login(person)
    assert other.get(START).url == url("personal")


def test_submit_refuses_crafted_flags_with_missing_data(client, person):
    complete(client, "notice", "personal", "education", "professional")
    Archive.objects.filter(user=person).update(work_done=True)  # flag set, 所属行政区划 never chosen
    review = client.get(url("review"))
    assert review.status_code == 200
    assert "还不能提交" in _text(review) and "请选择所属行政区划" in _text(review)

    response = client.post(url("review"), {"nav": "next"})
    assert response.status_code == 302
    shown = _messages(response)
    assert shown and ("在岗状态" in shown[0] or "所属行政区划" in shown[0])
    archive = archive_of(person)
    assert archive.status == ArchiveStatus.DRAFT and archive.archive_number is None
    assert client.get(STATUS).context["status_label"] == "采集中"


def test_submit_refuses_every_flag_without_any_data(client, person):
    complete(client, "notice")
    Archive.objects.filter(user=person).update(personal_done=True, education_done=True, professional_done=True,
                                               work_done=True)
    client.post(url("review"), {"nav": "next", "status": "collected", "archive_number": "1"})
    archive = archive_of(person)
    assert archive.status == ArchiveStatus.DRAFT and archive.archive_number is None


# --- 上一步 and drafts --------------------------------------------------------------------


def test_previous_with_valid_data_saves_it(client, person):
    complete_until(client, "education")
    response = client.post(url("education"), education_data(nav="prev"))
    assert response.url == url("personal")
    assert archive_of(person).education_done


def test_previous_with_invalid_data_keeps_the_raw_input_and_shows_it_again(client, person):
    complete(client, "notice", "personal", "education")
    saved_email = archive_of(person).email
    data = personal_data(uploads=False, email="half-typed@", nav="prev")
    response = client.post(url("personal"), data)
    assert response.url == url("notice")
    archive = archive_of(person)
    assert archive.step_drafts["personal"]["email"] == ["half-typed@"]
    assert archive.email == saved_email and archive.personal_done  # the saved data is untouched

    page = client.get(url("personal"))
    assert parse(page).values["email"] == "half-typed@"
    assert "尚未通过校验，已为您保留" in _text(page)

    complete(client, "personal")  # a valid 下一步 saves and drops the draft
    assert "personal" not in archive_of(person).step_drafts
    assert parse(client.get(url("personal"))).values["email"] == "zhang.san@example.com"


@pytest.mark.parametrize("step", ["education", "professional", "work"])
def test_previous_keeps_drafts_of_every_step(client, person, step):
    complete_until(client, step)
    data = {
        "education": education_data(**{"ft-school": "半截大", "ft-major": ""}, nav="prev"),
        "professional": professional_data(qualifications=[{**QUALIFICATION, "certificate_number": "半截",
                                                           "obtained_on": ""}], nav="prev"),
        "work": work_data(employer="半截单位", county="", nav="prev"),
    }[step]
    response = client.post(url(step), data)
    assert response.url == url(STEPS[STEPS.index(step) - 1])
    html = _text(client.get(url(step)))
    assert "半截" in html and "尚未通过校验，已为您保留" in html


def test_previous_from_review_goes_to_work(client, person):
    complete_until(client, "review")
    assert client.post(url("review"), {"nav": "prev"}).url == url("work")
    assert archive_of(person).status == ArchiveStatus.DRAFT


# --- resume on another device ---------------------------------------------------------------


def test_resume_after_logout_on_another_device(client, person):
    complete(client, "notice", "personal", "education")
    client.post(reverse("accounts:logout"))
    assert client.get(START).status_code == 302 and client.get(START).url.startswith(reverse("accounts:login"))

    phone = Client()
    assert log_in(phone, person).status_code == 302
    response = phone.get(START)
    assert response.url == url("professional")
    assert parse(phone.get(url("education"))).values["ft-school"] == "贵州财经大学"
    personal = phone.get(url("personal"))
    assert parse(personal).values["email"] == "zhang.san@example.com"
    assert phone.get(reverse("collection:upload", args=["photo"])).status_code == 200
    # and carry on from there
    complete(phone, "professional", "work")
    assert phone.get(START).url == url("review")


# --- 提交 and 采集状态 --------------------------------------------------------------------


def _fill_everything(client):
    complete(client, "notice", "personal")
    client.post(url("education"), education_data(part_time=True))
    client.post(url("professional"), professional_data(qualifications=[QUALIFICATION], talents=[TALENT],
                                                       awards=[AWARD], is_tax_agent="true", abacus_level="4"))
    complete(client, "work")


def test_review_shows_everything_with_links_back(client, person):
    _fill_everything(client)
    response = client.get(url("review"))
    html = _text(response)
    expected = [
        person.name, person.id_number_masked, "居民身份证", person.get_gender_display(), CHINA, "汉族", "群众",
        "zhang.san@example.com",
        "大学本科，学士\n贵州财经大学，会计学\n2008-09-01 至 2012-07-01",
        "硕士研究生，硕士\n贵州大学，工商管理\n2015-09-01 至 2018-07-01",
        "会计类，中级，考试\n2016-05-20\nZ2016520100123",
        "高端会计人才，入选年度 2015，第 3 期，已毕业，毕业年度 2018",
        "全省先进会计工作者，省部级，2019-12-01，贵州省财政厅",
        "四级", "会计工作岗位", "贵阳市 云岩区", "贵州某某会计师事务所",
    ]
    for text in expected:
        assert text in html, text
    assert person.plain_id_number not in html
    for step in ("personal", "education", "professional", "work"):
        assert f'href="{url(step)}">修改</a>' in html
    for field in ("photo", "id_card_front", "id_card_back"):
        assert reverse("collection:upload", args=[field]) in html
    assert ">提交</button>" in html and "还不能提交" not in html


def test_review_escapes_what_was_typed(client, person):
    complete_until(client, "work")
    client.post(url("work"), work_data(employer="<script>alert(1)</script>"))
    html = _text(client.get(url("review")))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_submit_collects_at_once_and_shows_number_and_time(client, person):
    _fill_everything(client)
    response = client.post(url("review"), {"nav": "next"})
    assert response.url == STATUS
    archive = archive_of(person)
    assert archive.status == ArchiveStatus.COLLECTED and archive.archive_number
    status = client.get(STATUS)
    html = _text(status)
    assert status.context["status_label"] == "已采集"
    assert archive.archive_number in html
    assert timezone.localtime(archive.collected_at).strftime("%Y-%m-%d %H:%M") in html
    assert "已采集" in _text(client.get(HOME))


def test_after_collection_the_wizard_sends_to_status_and_changes_nothing(client, person):
    _fill_everything(client)
    client.post(url("review"), {"nav": "next"})
    before = archive_of(person)
    assert client.get(START).url == STATUS
    for step in STEPS:
        assert client.get(url(step)).url == STATUS
    posts = {
        "notice": {"promise": "on"},
        "personal": personal_data(email="changed@example.com"),
        "education": education_data(**{"ft-school": "改过的大学"}),
        "professional": professional_data(),
        "work": work_data(employment_status="unemployed"),
        "review": {"nav": "next"},
    }
    for step, data in posts.items():
        response = client.post(url(step), data)
        assert response.status_code == 302 and response.url == STATUS, step
    after = archive_of(person)
    assert (after.version, after.email, after.employment_status, after.archive_number, after.collected_at) == (
        before.version, before.email, before.employment_status, before.archive_number, before.collected_at)
    assert after.photo.name == before.photo.name
    assert Education.objects.get(mode="full_time").school == "贵州财经大学"
    assert ProfessionalQualification.objects.count() == 1


def test_status_page_for_each_state(client, person):
    assert "开始信息采集" in _text(client.get(STATUS))
    complete(client, "notice")
    page = client.get(STATUS)
    assert page.context["status_label"] == "采集中" and "继续信息采集" in _text(page)
    assert "档案编号" not in _text(page)


# --- query counts -------------------------------------------------------------------------


def _count(client, path) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def _professional_rows(client, rows: int):
    data = professional_data(qualifications=[QUALIFICATION] * rows, talents=[TALENT] * min(rows, 10),
                             awards=[AWARD] * rows)
    assert client.post(url("professional"), data).status_code == 302


def test_query_counts_do_not_grow_with_the_number_of_rows(client, person):
    complete(client, "notice", "personal", "education")
    _professional_rows(client, 1)
    complete(client, "work")
    pages = [url("review"), url("professional"), STATUS, HOME]
    few = {path: _count(client, path) for path in pages}
    _professional_rows(client, 15)
    assert ProfessionalQualification.objects.count() == 15 and Award.objects.count() == 15
    assert {path: _count(client, path) for path in pages} == few


def test_status_and_home_query_counts_are_bounded(client, person, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        client.get(STATUS)
    complete(client, "notice", "personal", "education")
    _professional_rows(client, 15)
    complete(client, "work")
    with django_assert_max_num_queries(12):
        client.get(url("review"))
    with django_assert_max_num_queries(10):
        client.get(url("professional"))
    client.post(url("review"), {"nav": "next"})
    with django_assert_max_num_queries(6):
        assert client.get(STATUS).status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get(HOME).status_code == 200


@pytest.mark.parametrize(("step", "label"), [
    ("notice", "阅读须知"), ("personal", "个人信息"), ("education", "学历信息"),
    ("professional", "专业技术信息"), ("work", "工作信息"), ("review", "提交"),
])
def test_each_step_names_itself_in_the_page_title(client, person, step, label):
    """The browser tab and history say which step this is (it said "信息采集 -  - ...")."""
    complete_until(client, step)
    html = _text(client.get(url(step)))
    assert f"<title>信息采集 - {label} - 贵州省财政会计网</title>" in html
