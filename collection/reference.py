"""Reference code tables: loaded from collection/data/ (copies of shared/data/)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from django.db import transaction

from accounts.identity import IdType

from .models import (
    Degree,
    Division,
    DivisionLevel,
    EducationLevel,
    Ethnicity,
    HistoricalDivision,
    PoliticalStatus,
)

DATA = Path(__file__).resolve().parent / "data"
LOCAL_ETHNIC_CODES = {"穿青人": "X1", "革家人": "X2"}


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _upsert(model, key: str, rows: list[dict]) -> int:
    existing = {getattr(o, key): o for o in model.objects.all()}
    changed = 0
    for row in rows:
        obj = existing.get(row[key])
        if obj is None:
            model.objects.create(**row)
            changed += 1
        elif any(getattr(obj, k) != v for k, v in row.items()):
            for k, v in row.items():
                setattr(obj, k, v)
            obj.save()
            changed += 1
    return changed


def _id_types_match_code() -> None:
    names = {r["key"]: r["name"] for r in _rows("id_document_types.csv")}
    ours = {t.value: str(t.label) for t in IdType}
    if names != ours:
        raise ValueError(f"id_document_types.csv and accounts.identity.IdType disagree: {names} vs {ours}")


@transaction.atomic
def reference_data_load() -> dict[str, int]:
    """Create or update every code table; return rows changed per table."""
    _id_types_match_code()
    result = {}
    ethnic = []
    for i, r in enumerate(_rows("ethnic_groups_gbt3304.csv")):
        code = r["code"] or LOCAL_ETHNIC_CODES[r["name"]]
        ethnic.append({"code": code, "name": r["name"], "in_standard": r["in_standard"] == "yes", "sort_order": i})
    result["ethnicity"] = _upsert(Ethnicity, "code", ethnic)
    result["political_status"] = _upsert(
        PoliticalStatus,
        "code",
        [{"code": r["code"], "full_name": r["full_name"], "name": r["display_name"]}
         for r in _rows("political_status_gbt4762.csv")],
    )
    options = json.loads((DATA / "education_form_options.json").read_text(encoding="utf-8"))
    result["education_level"] = _upsert(
        EducationLevel,
        "code",
        [{"code": o["gbt4658_code"], "name": o["label"], "sort_order": i}
         for i, o in enumerate(options["education_level_学历_simplified"])],
    )
    result["degree"] = _upsert(
        Degree,
        "code",
        [{"code": o["gbt6864_prefix"] or "0", "name": o["label"], "sort_order": i}
         for i, o in enumerate(options["degree_学位_simplified"])],
    )
    divisions = _rows("guizhou_divisions.csv")
    by_code = {d.code: d for d in Division.objects.all()}
    changed = 0
    for level in (DivisionLevel.PROVINCE, DivisionLevel.PREFECTURE, DivisionLevel.COUNTY):
        for r in (r for r in divisions if r["level"] == level):
            parent = by_code.get(r["parent_code"]) if r["parent_code"] else None
            wanted = {"name": r["name"], "parent": parent, "level": level, "kind": r["type"]}
            obj = by_code.get(r["code"])
            if obj is None:
                by_code[r["code"]] = Division.objects.create(code=r["code"], **wanted)
                changed += 1
            elif any(getattr(obj, k) != v for k, v in wanted.items()):
                for k, v in wanted.items():
                    setattr(obj, k, v)
                obj.save()
                changed += 1
    result["division"] = changed
    hist = [
        {
            "code": r["code"],
            "name": r["name"],
            "valid_from_year": int(r["valid_from_year"]) if r["valid_from_year"] else None,
            "valid_to_year": int(r["valid_to_year"]) if r["valid_to_year"] else None,
            "successor_codes": r["likely_successor_code"],
        }
        for r in _rows("guizhou_divisions_historical.csv")
    ]
    existing = set(HistoricalDivision.objects.values_list("code", "name"))
    new = [HistoricalDivision(**h) for h in hist if (h["code"], h["name"]) not in existing]
    HistoricalDivision.objects.bulk_create(new)
    result["historical_division"] = len(new)
    return result


def reference_data_loaded() -> bool:
    """Cheap check used to skip a reload (tests, repeated `make run`)."""
    return Division.objects.filter(level=DivisionLevel.COUNTY).count() == 88 and Ethnicity.objects.count() == 60
