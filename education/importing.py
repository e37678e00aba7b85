"""Reading the institutions CSV for `manage.py import_institutions`.

Columns (header row required, UTF-8, an Excel BOM is accepted):

    code,name,platform_url,contact_name,contact_phone,years,active

- code: the institution's code, letters/digits/-/_ (the key: a second import updates)
- name: 机构名称
- platform_url: the learning platform, http:// or https://
- contact_name, contact_phone: may be empty
- years: the filed years separated by ";" (e.g. "2025;2026"), at least one
- active: 1/0, true/false, yes/no, 是/否; empty means active

Every row is validated before anything is written; errors carry the line number.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from .models import MAX_YEAR, MIN_YEAR

COLUMNS = ("code", "name", "platform_url", "contact_name", "contact_phone", "years", "active")
REQUIRED_COLUMNS = ("code", "name", "platform_url", "years")
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_PHONE = re.compile(r"^[0-9+\-() ]{0,30}$")
_TRUE = {"", "1", "true", "yes", "y", "是"}
_FALSE = {"0", "false", "no", "n", "否"}
_url = URLValidator(schemes=["http", "https"])


@dataclass(frozen=True)
class InstitutionRow:
    line: int
    code: str
    name: str
    platform_url: str
    contact_name: str
    contact_phone: str
    years: tuple[int, ...]
    is_active: bool


@dataclass
class ParseResult:
    rows: list[InstitutionRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _years(raw: str) -> tuple[int, ...]:
    parts = [p.strip() for p in re.split(r"[;；]", raw) if p.strip()]
    if not parts:
        raise ValueError("years is empty")
    years = []
    for part in parts:
        if not part.isdigit() or not MIN_YEAR <= int(part) <= MAX_YEAR:
            raise ValueError(f"year {part!r} is not a year between {MIN_YEAR} and {MAX_YEAR}")
        years.append(int(part))
    return tuple(sorted(set(years)))


def _row(line: int, record: dict[str, str]) -> InstitutionRow:
    value = {k: (record.get(k) or "").strip() for k in COLUMNS}
    if not _CODE.match(value["code"]):
        raise ValueError(f"code {value['code']!r} must be 1-32 letters, digits, '-' or '_'")
    if not value["name"] or len(value["name"]) > 100:
        raise ValueError("name is required (at most 100 characters)")
    try:
        _url(value["platform_url"])
    except ValidationError:
        raise ValueError(f"platform_url {value['platform_url']!r} is not an http(s) URL") from None
    if len(value["platform_url"]) > 300:
        raise ValueError("platform_url is longer than 300 characters")
    if len(value["contact_name"]) > 50:
        raise ValueError("contact_name is longer than 50 characters")
    if not _PHONE.match(value["contact_phone"]):
        raise ValueError(f"contact_phone {value['contact_phone']!r} is not a phone number")
    active = value["active"].lower()
    if active not in _TRUE | _FALSE:
        raise ValueError(f"active {value['active']!r} must be 1/0, true/false, yes/no or 是/否")
    return InstitutionRow(
        line=line, code=value["code"], name=value["name"], platform_url=value["platform_url"],
        contact_name=value["contact_name"], contact_phone=value["contact_phone"],
        years=_years(value["years"]), is_active=active in _TRUE,
    )


def institution_rows_parse(text: str) -> ParseResult:
    """Validate every row of the CSV text; collect all errors with their line numbers."""
    result = ParseResult()
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        result.errors.append(f"line 1: missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}")
        return result
    reader.fieldnames = header
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
            continue  # a blank line
        if None in record:
            result.errors.append(f"line {line}: more fields than columns")
            continue
        try:
            row = _row(line, record)
        except ValueError as error:
            result.errors.append(f"line {line}: {error}")
            continue
        if row.code in seen:
            result.errors.append(f"line {line}: code {row.code!r} already appears on line {seen[row.code]}")
            continue
        seen[row.code] = line
        result.rows.append(row)
    return result
