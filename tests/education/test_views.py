"""继续教育 pages: gating, 远程教育 year query, 报名 once, 点击查看."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from education import services
from education.models import Enrolment, LaunchToken
from tests.education.helpers import PLATFORM_URL, make_institution, remote_url
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


# --- gating ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["education:menu", "education:professional", "education:remote"])
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", ["education:menu", "education:professional", "education:remote"])
def test_not_collected_sees_a_message_and_a_link_to_collection(client, reference_data, name):
    client.force_login(AccountFactory())
    response = client.get(reverse(name))
    assert response.status_code == 403
    html = response.content.decode()
    assert "请先完成信息采集" in html
    assert f'href="{reverse("collection:start")}"' in html and "开始信息采集" in html


def test_a_draft_archive_is_not_enough(client, reference_data):
    from collection.services import archive_start

    user = AccountFactory()
    archive_start(user=user)
    client.force_login(user)
    response = client.post(reverse("education:enrol"), {"institution": 1, "year": 2026})
    assert response.status_code == 403 and "继续信息采集" in response.content.decode()
    assert not Enrolment.objects.exists()


def test_menu_links(learner_client):
    html = learner_client.get(reverse("education:menu")).content.decode()
    assert f'href="{reverse("education:professional")}"' in html
    assert "学分确认申请" in html and "继续教育记录查询" in html and "即将开放" not in html
    html = learner_client.get(reverse("education:professional")).content.decode()
    assert f'href="{reverse("education:remote")}"' in html and "远程教育" in html


# --- 远程教育: the year query ------------------------------------------------------------


def test_year_defaults_to_current_and_lists_only_active_institutions_filed_for_it(learner_client, this_year):
    make_institution("A1", years=(this_year,), name="本年度机构")
    make_institution("A2", years=(this_year - 1,), name="去年机构")
    make_institution("A3", years=(this_year,), name="停用机构", active=False)
    make_institution("A4", years=(this_year - 1, this_year), name="两年机构")
    response = learner_client.get(remote_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{this_year}" selected>' in html
    assert "本年度机构" in html and "两年机构" in html
    assert "去年机构" not in html and "停用机构" not in html

    html = learner_client.get(remote_url(this_year - 1)).content.decode()
    assert "去年机构" in html and "两年机构" in html
    assert "本年度机构" not in html and "停用机构" not in html


def test_a_year_outside_the_select_falls_back_to_the_current_year(learner_client, this_year):
    make_institution("A1", years=(this_year,), name="本年度机构")
    html = learner_client.get(remote_url(1999)).content.decode()
    assert "请选择列表中的年度" in html and "本年度机构" in html


def test_list_page_query_count_does_not_grow(learner_client, learner, this_year, django_assert_max_num_queries):
    first = make_institution("Q00", years=(this_year,))
    services.enrolment_create(user=learner, institution=first, year=this_year)
    learner_client.get(remote_url(this_year))  # the session's once-a-minute renewal is not what is measured
    with django_assert_max_num_queries(8) as few:
        learner_client.get(remote_url(this_year))
    for i in range(1, 15):
        institution = make_institution(f"Q{i:02d}", years=(this_year,))
        if i % 2:
            services.enrolment_create(user=learner, institution=institution, year=this_year)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = learner_client.get(remote_url(this_year))
    assert response.content.decode().count('aria-label="点击查看：') == 8
    assert len(many.captured_queries) == len(few.captured_queries)


# --- 报名 -------------------------------------------------------------------------------


def test_enrol_once_then_already_enrolled(learner_client, learner, institution, this_year):
    response = learner_client.post(reverse("education:enrol"), {"institution": institution.pk, "year": this_year},
                                   follow=True)
    html = response.content.decode()
    assert "报名成功" in html and "点击查看" in html
    enrolment = Enrolment.objects.get()
    assert (enrolment.user, enrolment.institution, enrolment.year) == (learner, institution, this_year)
    assert reverse("education:launch", args=[enrolment.pk]) in html

    response = learner_client.post(reverse("education:enrol"), {"institution": institution.pk, "year": this_year},
                                   follow=True)
    html = response.content.decode()
    assert "已报名" in html and "报名成功" not in html
    assert Enrolment.objects.count() == 1


def test_enrol_service_refuses_a_second_time(learner, institution, this_year):
    services.enrolment_create(user=learner, institution=institution, year=this_year)
    with pytest.raises(services.AlreadyEnrolled):
        services.enrolment_create(user=learner, institution=institution, year=this_year)
    assert Enrolment.objects.count() == 1


def test_enrol_in_an_institution_not_filed_for_the_year_is_refused(learner_client, institution, this_year):
    response = learner_client.post(reverse("education:enrol"),
                                   {"institution": institution.pk, "year": this_year - 1}, follow=True)
    assert "未在" in response.content.decode()
    assert not Enrolment.objects.exists()


def test_enrol_needs_a_post_with_csrf(client, learner, institution, this_year):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(learner)
    response = strict.post(reverse("education:enrol"), {"institution": institution.pk, "year": this_year})
    assert response.status_code == 403 and not Enrolment.objects.exists()
    client.force_login(learner)
    assert client.get(reverse("education:enrol")).status_code == 405


# --- 点击查看 ---------------------------------------------------------------------------


def test_launch_redirects_to_the_platform_with_a_token_never_the_id_number(
    learner_client, learner, institution, this_year
):
    enrolment = services.enrolment_create(user=learner, institution=institution, year=this_year)
    response = learner_client.post(reverse("education:launch", args=[enrolment.pk]))
    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(PLATFORM_URL + "?token=")
    token = parse_qs(urlsplit(location).query)["token"]
    assert len(token) == 1 and len(token[0]) >= 43
    assert learner.plain_id_number not in location and learner.id_number_masked not in location
    stored = LaunchToken.objects.get()
    assert stored.token_hash != token[0] and token[0] not in stored.token_hash
    assert stored.token_hash == services.token_hash(token[0]) and stored.used_at is None
    assert "no-store" in response["Cache-Control"]


def test_each_launch_gives_a_new_token(learner_client, learner, institution, this_year):
    enrolment = services.enrolment_create(user=learner, institution=institution, year=this_year)
    first = learner_client.post(reverse("education:launch", args=[enrolment.pk]))["Location"]
    second = learner_client.post(reverse("education:launch", args=[enrolment.pk]))["Location"]
    assert first != second and LaunchToken.objects.count() == 2


def test_platform_url_query_is_kept(learner_client, learner, this_year):
    institution = make_institution("Q1", years=(this_year,), platform_url="https://x.example.com/sso?from=gz")
    enrolment = services.enrolment_create(user=learner, institution=institution, year=this_year)
    location = learner_client.post(reverse("education:launch", args=[enrolment.pk]))["Location"]
    query = parse_qs(urlsplit(location).query)
    assert query["from"] == ["gz"] and "token" in query


def test_another_persons_enrolment_launch_is_404(client, learner, institution, this_year):
    enrolment = services.enrolment_create(user=learner, institution=institution, year=this_year)
    other = AccountFactory()
    from tests.education.helpers import collect

    collect(other)
    client.force_login(other)
    assert client.post(reverse("education:launch", args=[enrolment.pk])).status_code == 404
    assert client.post(reverse("education:launch", args=[999999])).status_code == 404
    assert not LaunchToken.objects.exists()


def test_launch_is_post_only(learner_client, learner, institution, this_year):
    enrolment = services.enrolment_create(user=learner, institution=institution, year=this_year)
    assert learner_client.get(reverse("education:launch", args=[enrolment.pk])).status_code == 405
    assert not LaunchToken.objects.exists()
