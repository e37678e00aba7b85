"""A person's side over HTTP for the fault tests: a requests session that reads a page's
form (hidden fields, CSRF token, default choices), fills some fields and posts it, as a
browser without JavaScript would. The institution's signed API calls are here too."""

from __future__ import annotations

import json
import re
import threading
import time
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

from education.api_auth import sign

TIMEOUT = 60


class _Forms(HTMLParser):
    """Every <form> of a page: method, action and its fields' submitted defaults."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(), "action": a.get("action") or "",
                          "fields": {}, "names": set(), "buttons": []}
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            form["names"].add(name)
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form["fields"][name] = a.get("value", "on")
            elif kind in ("submit", "button", "file", "image"):
                if kind == "submit":
                    form["buttons"].append((name, a.get("value", "")))
            else:
                form["fields"][name] = a.get("value", "")
        elif tag == "button" and name:
            form["buttons"].append((name, a.get("value", "")))
        elif tag == "select" and name:
            form["names"].add(name)
            self._select, self._select_first = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
                form["fields"].setdefault(self._select, value)
            if "selected" in a:
                form["fields"][self._select] = value
        elif tag == "textarea" and name:
            form["names"].add(name)
            self._textarea = name
            form["fields"][name] = ""

    def handle_data(self, data):
        if self._textarea and self._form is not None:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Visitor:
    """One browser: its own cookies."""

    def __init__(self, base_url: str):
        self.base = base_url
        self.http = requests.Session()

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(urljoin(self.base, path), timeout=TIMEOUT, **kw)

    def form(self, path: str, *, having: str) -> tuple[str, dict]:
        """GET `path`; (action URL, default data) of its POST form with a field named `having`."""
        page = self.get(path)
        assert page.status_code == 200, f"GET {path}: HTTP {page.status_code}\n{page.text[:2000]}"
        for form in forms_of(page.text):
            if form["method"] == "post" and having in form["names"]:
                return urljoin(page.url, form["action"] or page.url), dict(form["fields"])
        raise AssertionError(f"no POST form with {having!r} on {path}")

    def post(self, url: str, data: dict, files: dict | None = None) -> requests.Response:
        return self.http.post(urljoin(self.base, url), data=data, files=files, timeout=TIMEOUT,
                              allow_redirects=False, headers={"Referer": urljoin(self.base, url)})

    def submit(self, path: str, *, having: str, data: dict, files: dict | None = None) -> requests.Response:
        url, fields = self.form(path, having=having)
        return self.post(url, {**fields, **data}, files)

    def csrf(self) -> str:
        """The CSRF cookie's secret, accepted as the form token (a page must have been read first)."""
        return self.http.cookies["csrftoken"]

    def clone(self) -> Visitor:
        """Another connection with the same cookies: the same browser's second request."""
        other = Visitor(self.base)
        other.http.cookies.update(self.http.cookies)
        return other

    def log_in(self, id_number: str, password: str) -> None:
        answer = self.submit("/accounts/login/", having="id_number", data={"id_number": id_number,
                                                                             "password": password})
        assert answer.status_code == 302, f"login: HTTP {answer.status_code}\n{answer.text[:2000]}"


def at_once(*calls) -> list:
    """Run the calls in threads released together; their results (or exceptions) in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except Exception as exc:  # the test looks at it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 2)
    return results


def signed(base_url: str, method: str, path: str, *, key_id: str, secret: str, body: bytes = b""):
    """The institution's signed API request (see education.api_auth)."""
    timestamp = int(time.time())
    return requests.request(method, base_url + path, data=body or None, timeout=TIMEOUT, headers={
        "Content-Type": "application/json", "X-Institution-Key": key_id, "X-Timestamp": str(timestamp),
        "X-Signature": sign(secret, timestamp, body)})


def credit_batch_post(base_url: str, seeded: dict, records: list[dict]) -> requests.Response:
    body = json.dumps({"records": records}, ensure_ascii=False).encode()
    return signed(base_url, "POST", "/api/v1/credit-batches", key_id=seeded["key_id"], secret=seeded["secret"],
                  body=body)


def credit_records(person: dict, *, year: int, prefix: str, count: int, credits: float = 1.5) -> list[dict]:
    return [{"record_id": f"{prefix}-{n}", "id_type": "resident_id_card", "id_number": person["id_number"],
             "name": person["name"], "year": year, "category": "专业科目" if n % 2 else "公需科目",
             "credits": credits, "course": f"课程{n}", "completed_at": f"{year}-06-30"} for n in range(count)]


CODE = re.compile(r"验证码(\d{6})")
