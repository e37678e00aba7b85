"""继续教育记录查询: a year's totals against the requirement (达标 at the
boundaries), 查看明细, only one's own records, bounded query counts."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.urls import reverse

from education import credits
from education.models import CreditCategory, CreditSource
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

_ids = itertools.count(1)


def add(user, year: int, category: str, amount: str, *, course: str = "会计职业道德", source=CreditSource.STAFF,
        institution=None):
    return credits.credit_record_add(
        user=user, source=source, institution=institution, record_id=f"T{next(_ids)}", year=year,
        category=category, credits=Decimal(amount), course=course, completed_at=dt.date(year, 3, 1),
    )


def page(client, year: int) -> str:
    response = client.get(reverse("education:credits"), {"year": year})
    assert response.status_code == 200
    return response.content.decode()


def test_menu_links_the_records_page_and_the_claims(learner_client):
    html = learner_client.get(reverse("education:menu")).content.decode()
    assert f'href="{reverse("education:credits")}"' in html
    assert f'href="{reverse("education:claim_create")}"' in html and f'href="{reverse("education:claim_list")}"' in html
    assert "即将开放" not in html and "学分确认申请" in html


@pytest.mark.parametrize("name", ["education:credits", "education:credit_detail"])
def test_gated_like_the_rest(client, reference_data, name):
    assert client.get(reverse(name)).status_code == 302
    client.force_login(AccountFactory())
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize(("public", "professional", "verdict"), [
    ("30", "60", "达标"),            # exactly 30 / 60 / 90
    ("30", "59.5", "未达标"),         # total 89.5
    ("29.9", "65.1", "未达标"),       # total 95 but 公需 29.9
    ("30", "59.9", "未达标"),         # 专业 just short
    ("45.5", "80", "达标"),
    ("0", "120", "未达标"),           # no 公需 at all
])
def test_totals_and_verdict_at_the_boundaries(learner_client, learner, this_year, public, professional, verdict):
    for category, amount in ((CreditCategory.PUBLIC, public), (CreditCategory.PROFESSIONAL, professional)):
        if Decimal(amount):
            add(learner, this_year, category, amount)
    html = page(learner_client, this_year)
    total = Decimal(public) + Decimal(professional)
    assert f'data-testid="total">{total:.1f}<' in html
    assert f'data-testid="public">{Decimal(public):.1f}<' in html
    assert f'data-testid="professional">{Decimal(professional):.1f}<' in html
    other = "未达标" if verdict == "达标" else "达标"
    assert f">{verdict}<" in html and f">{other}<" not in html


def test_the_annual_minimum_counts_on_its_own(learner_client, learner, this_year, settings):
    settings.CE_ANNUAL_MIN_CREDITS = 100
    add(learner, this_year, CreditCategory.PUBLIC, "30")
    add(learner, this_year, CreditCategory.PROFESSIONAL, "69.9")
    assert ">未达标<" in page(learner_client, this_year)
    add(learner, this_year, CreditCategory.PROFESSIONAL, "0.1")
    assert ">达标<" in page(learner_client, this_year)


def test_no_record_says_so(learner_client, learner, this_year):
    add(learner, this_year - 1, CreditCategory.PUBLIC, "30")
    html = page(learner_client, this_year)
    assert f"{this_year}年度暂无继续教育学分记录" in html and "达标" not in html
    detail = learner_client.get(reverse("education:credit_detail"), {"year": this_year}).content.decode()
    assert f"{this_year}年度暂无继续教育学分记录" in detail


def test_detail_lists_every_record_with_its_source(learner_client, learner, institution, this_year):
    add(learner, this_year, CreditCategory.PUBLIC, "12.5", course="公需课：新发展理念")
    add(learner, this_year, CreditCategory.PROFESSIONAL, "20", course="网校课程：收入准则",
        source=CreditSource.INSTITUTION, institution=institution)
    add(learner, this_year, CreditCategory.PROFESSIONAL, "10", course="会计类专业会议", source=CreditSource.CLAIM)
    add(learner, this_year - 1, CreditCategory.PROFESSIONAL, "90", course="去年的课")
    html = page(learner_client, this_year)
    assert f'href="{reverse("education:credit_detail")}?year={this_year}"' in html and "查看明细" in html
    detail = learner_client.get(reverse("education:credit_detail"), {"year": this_year}).content.decode()
    for text in ("公需课：新发展理念", "12.5 学分", "公需科目", "工作人员录入", "网校课程：收入准则",
                 "备案机构（贵州会计网校）", "会计类专业会议", "学分确认申请", "专业科目", f"{this_year}-03-01"):
        assert text in detail, text
    assert "去年的课" not in detail


def test_another_persons_records_are_never_shown(learner_client, learner, this_year, reference_data):
    other = AccountFactory(name="别人")
    add(other, this_year, CreditCategory.PROFESSIONAL, "77.7", course="别人的课程")
    html = page(learner_client, this_year)
    assert "77.7" not in html and f"{this_year}年度暂无继续教育学分记录" in html
    detail = learner_client.get(reverse("education:credit_detail"), {"year": this_year}).content.decode()
    assert "别人的课程" not in detail


def test_query_counts_do_not_grow_with_records(learner_client, learner, institution, this_year,
                                               django_assert_max_num_queries):
    def counts() -> tuple[int, int]:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as summary:
            page(learner_client, this_year)
        with CaptureQueriesContext(connection) as detail:
            learner_client.get(reverse("education:credit_detail"), {"year": this_year})
        return len(summary), len(detail)

    add(learner, this_year, CreditCategory.PUBLIC, "1", source=CreditSource.INSTITUTION, institution=institution)
    page(learner_client, this_year)  # the session's once-a-minute renewal is not what is measured
    few = counts()
    for _ in range(20):
        add(learner, this_year, CreditCategory.PROFESSIONAL, "1", source=CreditSource.INSTITUTION,
            institution=make_other(this_year))
    assert counts() == few
    with django_assert_max_num_queries(12):
        page(learner_client, this_year)
    with django_assert_max_num_queries(12):
        learner_client.get(reverse("education:credit_detail"), {"year": this_year})


def make_other(year):
    from tests.education.helpers import make_institution

    return make_institution(f"X{next(_ids)}", years=(year,))


def test_an_invalid_year_falls_back_to_this_year(learner_client, learner, this_year):
    add(learner, this_year, CreditCategory.PUBLIC, "5")
    response = learner_client.get(reverse("education:credits"), {"year": "abc"})
    assert response.status_code == 200 and "请选择列表中的年度" in response.content.decode()


def test_totals_come_from_the_summary_row(learner_client, learner, this_year):
    """Pages never sum records: the summary row is what is shown (check_credit_totals guards it)."""
    add(learner, this_year, CreditCategory.PUBLIC, "30")
    from education.models import CreditYearTotal

    CreditYearTotal.objects.filter(user=learner, year=this_year).update(total=Decimal("99.0"))
    assert 'data-testid="total">99.0<' in page(learner_client, this_year)
