"""Helpers that walk the wizard through its real pages, and read what a page offers."""

from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser

from django.urls import reverse

from collection.models import Archive, Degree, Division, EducationLevel, Ethnicity, PoliticalStatus
from tests.images import document_upload, photo_upload

STEPS = ["notice", "personal", "education", "professional", "work", "review"]


def unique_digits(n: int) -> str:
    """Digits for a document number no other test (or parallel run on a shared DB) uses."""
    return f"{uuid.uuid4().int % 10**n:0{n}d}"


def url(step: str) -> str:
    return reverse(f"collection:{step}")


def archive_of(user) -> Archive:
    return Archive.objects.get(user=user)


# --- valid data for each step -------------------------------------------------------------


def personal_data(*, uploads: bool = True, **overrides) -> dict:
    data = {
        "ethnicity": Ethnicity.objects.get(name="汉族").pk,
        "political_status": PoliticalStatus.objects.get(name="群众").pk,
        "email": "zhang.san@example.com",
        "nav": "next",
    }
    if uploads:
        data.update(
            photo=photo_upload(), id_card_front=document_upload("PNG"), id_card_back=document_upload("JPEG")
        )
    data.update(overrides)
    return data


def education_data(*, part_time: bool = False, **overrides) -> dict:
    data = {
        "ft-level": EducationLevel.objects.get(name="大学本科").pk,
        "ft-degree": Degree.objects.get(name="学士").pk,
        "ft-school": "贵州财经大学",
        "ft-major": "会计学",
        "ft-start_date": "2008-09-01",
        "ft-graduation_date": "2012-07-01",
        "nav": "next",
    }
    blank = {f"pt-{f}": "" for f in ("level", "degree", "school", "major", "start_date", "graduation_date")}
    data.update(blank)
    if part_time:
        data.update({
            "pt-level": EducationLevel.objects.get(name="硕士研究生").pk,
            "pt-degree": Degree.objects.get(name="硕士").pk,
            "pt-school": "贵州大学",
            "pt-major": "工商管理",
            "pt-start_date": "2015-09-01",
            "pt-graduation_date": "2018-07-01",
        })
    data.update(overrides)
    return data


QUALIFICATION = {
    "qualification_type": "accounting",
    "level": "intermediate",
    "method": "exam",
    "obtained_on": "2016-05-20",
    "certificate_number": "Z2016520100123",
}
TALENT = {"talent_type": "high_end", "selected_year": "2015", "batch": "3", "status": "graduated",
          "graduation_year": "2018"}
AWARD = {"content": "全省先进会计工作者", "level": "provincial", "awarded_on": "2019-12-01", "issuer": "贵州省财政厅",
         "remark": "", "other_credit_info": ""}


def formset_data(prefix: str, rows: list[dict], *, initial: int = 0, max_num: int = 20) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": str(max_num),
    }
    for i, row in enumerate(rows):
        data.update({f"{prefix}-{i}-{k}": v for k, v in row.items()})
    return data


def professional_data(*, qualifications=(), talents=(), awards=(), **overrides) -> dict:
    data = {"is_cpa": "false", "is_tax_agent": "false", "is_asset_appraiser": "false", "abacus_level": "none",
            "nav": "next"}
    data.update(formset_data("qualifications", list(qualifications)))
    data.update(formset_data("talents", list(talents), max_num=10))
    data.update(formset_data("awards", list(awards), max_num=30))
    data.update(overrides)
    return data


def division(name: str, *, parent: str | None = None) -> Division:
    qs = Division.objects.filter(name=name)
    if parent:
        qs = qs.filter(parent__name=parent)
    return qs.get()


def work_data(**overrides) -> dict:
    data = {
        "employment_status": "accounting",
        "prefecture": division("贵阳市").pk,
        "county": division("云岩区").pk,
        "employer": "贵州某某会计师事务所",
        "school": "",
        "nav": "next",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def step_data(step: str) -> dict:
    return {
        "notice": lambda: {"promise": "on"},
        "personal": personal_data,
        "education": education_data,
        "professional": lambda: professional_data(qualifications=[QUALIFICATION]),
        "work": work_data,
    }[step]()


def complete(client, *steps: str) -> None:
    """Post valid data to each step in turn; each must move on to the next step."""
    for step in steps:
        response = client.post(url(step), step_data(step))
        expected = url(STEPS[STEPS.index(step) + 1])
        assert response.status_code == 302 and response.url == expected, (step, response.status_code,
                                                                            page_errors(response))


def complete_until(client, step: str) -> None:
    """Complete every step before `step`."""
    complete(client, *STEPS[: STEPS.index(step)])


# --- reading pages ------------------------------------------------------------------------


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.selects: dict[str, list[tuple[str, str, str | None]]] = {}
        self.radios: dict[str, list[tuple[str, str]]] = {}
        self.labels: dict[str, str] = {}
        self.values: dict[str, str] = {}
        self.checked: set[tuple[str, str]] = set()
        self.selected: dict[str, list[str]] = {}
        self._select = None
        self._optgroup = None
        self._option = None
        self._label = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "select":
            self._select = a.get("name")
            self.selects.setdefault(self._select, [])
        elif tag == "optgroup":
            self._optgroup = a.get("label")
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value", ""), ""]
            if "selected" in a:
                self.selected.setdefault(self._select, []).append(a.get("value", ""))
        elif tag == "input":
            name = a.get("name")
            if a.get("type") == "radio":
                self.radios.setdefault(name, []).append((a.get("value"), a.get("id")))
            elif a.get("type") != "file" and name:
                self.values[name] = a.get("value", "")
            if "checked" in a:
                self.checked.add((name, a.get("value", "on")))
        elif tag == "label" and a.get("for"):
            self._label = [a["for"], ""]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "optgroup":
            self._optgroup = None
        elif tag == "option" and self._option is not None:
            self.selects[self._select].append((self._option[0], self._option[1].strip(), self._optgroup))
            self._option = None
        elif tag == "label" and self._label is not None:
            self.labels[self._label[0]] = self._label[1].strip().rstrip("*")
            self._label = None

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data
        if self._label is not None:
            self._label[1] += data


def parse(response) -> _PageParser:
    parser = _PageParser()
    parser.feed(response.content.decode())
    return parser


def options(response, name: str) -> list[str]:
    """Labels of a select's options, without the empty "请选择" one."""
    return [label for value, label, _group in parse(response).selects[name] if value != ""]


def option_values(response, name: str) -> dict[str, str]:
    return {label: value for value, label, _group in parse(response).selects[name] if value != ""}


def radio_labels(response, name: str) -> list[str]:
    page = parse(response)
    return [page.labels[id_] for _value, id_ in page.radios[name]]


_FIELD_ERROR = re.compile(r'<p id="error_\d+_id_([\w-]+)"[^>]*>\s*<strong>(.*?)</strong>', re.S)
_ALERT = re.compile(r'class="alert alert-danger"[^>]*>(.*?)</div>', re.S)


def page_errors(response) -> dict[str, list[str]]:
    """Errors shown on a page: field name → messages; alerts under "__all__"."""
    html = response.content.decode() if response.status_code == 200 else ""
    found: dict[str, list[str]] = {}
    for field, message in _FIELD_ERROR.findall(html):
        found.setdefault(field, []).append(message.strip())
    for alert in _ALERT.findall(html):
        found.setdefault("__all__", []).append(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", alert)).strip())
    return found
