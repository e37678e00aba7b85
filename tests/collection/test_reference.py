"""Code tables: `load_reference_data`, and every choice list the wizard offers (DOMAIN.md)."""

from __future__ import annotations

import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.identity import IdType
from collection.models import (
    PROVINCIAL_LEVEL_CODE,
    Degree,
    Division,
    DivisionLevel,
    EducationLevel,
    Ethnicity,
    HistoricalDivision,
    PoliticalStatus,
)
from collection.reference import DATA, reference_data_load, reference_data_loaded
from tests.collection.steps import (
    complete_until,
    option_values,
    options,
    parse,
    radio_labels,
    url,
)

pytestmark = pytest.mark.django_db


def _csv(name):
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


# --- the loader and the command -----------------------------------------------------------


def test_command_loads_every_table_and_a_second_run_changes_nothing():
    out = StringIO()
    call_command("load_reference_data", stdout=out)
    assert "reference data loaded" in out.getvalue()
    assert Ethnicity.objects.count() == 60
    assert PoliticalStatus.objects.count() == 13
    assert EducationLevel.objects.count() == 8
    assert Degree.objects.count() == 4
    assert Division.objects.count() == 98
    historical = HistoricalDivision.objects.count()
    assert historical == len(_csv("guizhou_divisions_historical.csv"))
    assert reference_data_loaded()

    again = reference_data_load()
    assert again == dict.fromkeys(again, 0)
    assert Ethnicity.objects.count() == 60 and Division.objects.count() == 98
    assert HistoricalDivision.objects.count() == historical


def test_a_changed_name_is_updated_in_place(reference_data):
    han = Ethnicity.objects.get(code="01")
    Ethnicity.objects.filter(pk=han.pk).update(name="汉")  # an older load with another spelling
    result = reference_data_load()
    assert result["ethnicity"] == 1
    assert Ethnicity.objects.get(pk=han.pk).name == "汉族"  # same row: archives pointing at it stay valid


def test_ethnic_groups_are_the_58_gb_codes_plus_chuanqing_and_gejia(reference_data):
    standard = Ethnicity.objects.filter(in_standard=True)
    assert standard.count() == 58
    assert {e.code for e in standard} == {f"{n:02d}" for n in range(1, 57)} | {"97", "98"}
    local = {e.name: e.code for e in Ethnicity.objects.filter(in_standard=False)}
    assert local == {"穿青人": "X1", "革家人": "X2"}


def test_political_status_is_gbt4762_with_display_names(reference_data):
    rows = {p.code: (p.full_name, p.name) for p in PoliticalStatus.objects.all()}
    assert len(rows) == 13
    assert rows["01"] == ("中国共产党党员", "中共党员")
    assert rows["13"] == ("群众", "群众")


def test_education_levels_and_degrees_follow_the_options_file(reference_data):
    options_file = json.loads((DATA / "education_form_options.json").read_text(encoding="utf-8"))
    assert [e.name for e in EducationLevel.objects.all()] == [
        o["label"] for o in options_file["education_level_学历_simplified"]
    ]
    assert [d.name for d in Degree.objects.all()] == ["博士", "硕士", "学士", "无"]


def test_divisions_are_the_province_9_prefectures_and_88_counties(reference_data):
    province = Division.objects.get(level=DivisionLevel.PROVINCE)
    assert province.code == PROVINCIAL_LEVEL_CODE and province.is_provincial_level
    assert str(province) == "省本级"
    prefectures = Division.objects.filter(level=DivisionLevel.PREFECTURE)
    assert prefectures.count() == 9
    assert set(prefectures.values_list("parent", flat=True)) == {province.pk}
    counties = Division.objects.filter(level=DivisionLevel.COUNTY)
    assert counties.count() == 88
    assert set(counties.values_list("parent__level", flat=True)) == {DivisionLevel.PREFECTURE}
    assert str(counties.get(code="520102")) == "贵阳市 南明区"


def test_id_document_types_file_agrees_with_the_code(reference_data):
    rows = {r["key"]: r["name"] for r in _csv("id_document_types.csv")}
    assert rows == {t.value: str(t.label) for t in IdType}


# --- what the wizard offers ---------------------------------------------------------------


def test_personal_step_offers_every_ethnic_group_and_political_status(client, person):
    complete_until(client, "personal")
    page = client.get(url("personal"))
    ethnic = options(page, "ethnicity")
    assert len(ethnic) == 60 and len(set(ethnic)) == 60
    assert ethnic[0] == "汉族"
    assert {"穿青人", "革家人", "苗族", "布依族", "侗族", "其他", "外国血统中国籍人士"} <= set(ethnic)
    assert options(page, "political_status") == [p.name for p in PoliticalStatus.objects.order_by("code")]
    assert len(options(page, "political_status")) == 13


def test_education_step_offers_the_simplified_levels_and_degrees(client, person):
    complete_until(client, "education")
    page = client.get(url("education"))
    levels = ["博士研究生", "硕士研究生", "大学本科", "大学专科", "中专/中职(含职高、技校)", "高中",
              "初中及以下", "其他"]
    for prefix in ("ft", "pt"):
        assert options(page, f"{prefix}-level") == levels
        assert options(page, f"{prefix}-degree") == ["博士", "硕士", "学士", "无"]


def test_professional_step_offers_the_manual_choice_lists(client, person):
    complete_until(client, "professional")
    page = client.get(url("professional"))
    row = "{}-__prefix__-{}"  # the empty row behind 新增
    assert options(page, row.format("qualifications", "qualification_type")) == [
        "会计类", "经济类", "审计类", "统计类", "其他"]
    assert options(page, row.format("qualifications", "level")) == ["初级", "中级", "高级", "正高级"]
    assert options(page, row.format("qualifications", "method")) == ["评审", "考试", "考评"]
    assert options(page, row.format("talents", "talent_type")) == [
        "高端会计人才", "国际化高端会计人才", "全国高端会计人才特殊支持计划",
        "全国中大型企事业单位总会计师培训（高端班）"]
    assert options(page, row.format("talents", "status")) == ["培养中", "已毕业", "已淘汰", "已除名"]
    assert options(page, row.format("awards", "level")) == ["国家级", "省部级", "地市级", "其他"]
    for name in ("is_cpa", "is_tax_agent", "is_asset_appraiser"):
        assert options(page, name) == ["是", "否"]
    assert options(page, "abacus_level")[0] == "无"
    # every select starts with a 请选择 placeholder, nothing pre-chosen
    for name, opts in parse(page).selects.items():
        assert opts[0][:2] == ("", "请选择"), name


def test_work_step_offers_the_four_states_the_prefectures_with_provincial_level_and_88_counties(client, person):
    complete_until(client, "work")
    page = client.get(url("work"))
    assert radio_labels(page, "employment_status") == ["会计工作岗位", "非会计工作岗位", "待业", "在校生"]
    prefectures = options(page, "prefecture")
    assert prefectures[0] == "省本级"
    assert prefectures[1:] == list(
        Division.objects.filter(level=DivisionLevel.PREFECTURE).order_by("code").values_list("name", flat=True)
    )
    assert len(prefectures) == 10
    counties = [(label, group) for value, label, group in parse(page).selects["county"] if value]
    assert len(counties) == 88
    groups = {group for _label, group in counties}
    assert groups == set(prefectures[1:])  # the cascade: counties grouped under their prefecture
    assert ("云岩区", "贵阳市") in counties and ("威宁彝族回族苗族自治县", "毕节市") in counties


def test_historical_division_codes_are_never_offered(client, person):
    complete_until(client, "work")
    page = client.get(url("work"))
    offered_values = set(option_values(page, "prefecture").values()) | set(option_values(page, "county").values())
    offered_codes = set(Division.objects.filter(pk__in=offered_values).values_list("code", flat=True))
    offered_names = set(options(page, "prefecture")) | set(options(page, "county"))
    current_codes = set(Division.objects.values_list("code", flat=True))
    abolished = [h for h in HistoricalDivision.objects.all() if h.code not in current_codes]
    assert len(abolished) > 20
    assert not {h.code for h in abolished} & offered_codes
    assert not {"小河区", "遵义县", "盘县特区", "毕节地区", "铜仁地区"} & offered_names
    # and the abolished codes are not rows a form could accept
    assert not Division.objects.filter(code__in=[h.code for h in abolished]).exists()
