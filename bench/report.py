"""The yearly credit report at scale (issue 8 point 2): `manage.py credit_report --year Y`
over every seeded person (it reads the yearly totals table) against a plain SQL
GROUP BY over the raw credit records of the same year, side by side in one run.

Target: the report at least 5 x faster than the GROUP BY.

    .venv/bin/python bench/report.py                    # portal_bench_300k, last year
    .venv/bin/python bench/report.py --repeat 5 --year 2025

Each side runs `--repeat` times, alternating; medians are compared. Also timed (for
information): the report's own query with every row fetched and nothing written, and
two floors that no report reading per-person rows can go under, written to a file by
COPY as the report is: the year's yearly-totals rows alone (no people, no join, no
order, no formatting), and the collected people joined to them (no order, no
formatting).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/portal_bench_300k"
TARGET = 5.0

GROUP_BY = """
    SELECT user_id,
           SUM(CASE WHEN category = 'public' THEN credits ELSE 0 END),
           SUM(CASE WHEN category = 'professional' THEN credits ELSE 0 END),
           SUM(credits)
    FROM education_creditrecord WHERE year = %s GROUP BY user_id
"""


FLOOR_TOTALS = """
    SELECT user_id, public_credits, professional_credits, total
    FROM education_credityeartotal WHERE year = %s
"""
FLOOR_JOIN = """
    SELECT u.name, u.id_number_masked, a.division_id, COALESCE(t.public_credits, 0),
           COALESCE(t.professional_credits, 0), COALESCE(t.total, 0)
    FROM collection_archive a JOIN accounts_user u ON u.id = a.user_id
    LEFT JOIN education_credityeartotal t ON t.user_id = a.user_id AND t.year = %s
    WHERE a.status = 'collected'
"""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--year", type=int, default=time.localtime().tm_year - 1)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("DEBUG", "1")  # development keys, as the seeding used
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from education import reports
    from education.models import CreditRecord, CreditYearTotal

    records = CreditRecord.objects.filter(year=args.year).count()
    totals = CreditYearTotal.objects.filter(year=args.year).count()
    out = Path(tempfile.mkdtemp(prefix="bench-report-")) / "report.csv"

    def report_command() -> int:
        call_command("credit_report", year=args.year, output=str(out), stderr=open(os.devnull, "w"))
        return sum(1 for _ in out.open(encoding="utf-8-sig")) - 1

    def report_query() -> int:
        return sum(1 for _ in reports.credit_report_rows(year=args.year))

    def group_by() -> int:
        with connection.cursor() as cursor:
            cursor.execute(GROUP_BY, [args.year])
            return len(cursor.fetchall())

    def copy_floor(sql: str):
        def run() -> int:
            with connection.cursor() as cursor, out.open("w", encoding="utf-8") as stream:
                query = cursor.cursor.mogrify(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", [args.year]).decode()
                cursor.cursor.copy_expert(query, stream)
            return sum(1 for _ in out.open(encoding="utf-8"))
        return run

    floors = {"floor: totals rows": copy_floor(FLOOR_TOTALS), "floor: people+totals": copy_floor(FLOOR_JOIN)}
    timings: dict[str, list[float]] = {"credit_report": [], "report rows only": [], "raw GROUP BY": [],
                                       **{name: [] for name in floors}}
    rows = {}
    for _ in range(args.repeat):
        for name, fn in (("credit_report", report_command), ("raw GROUP BY", group_by),
                         ("report rows only", report_query), *floors.items()):
            t0 = time.perf_counter()
            rows[name] = fn()
            timings[name].append(time.perf_counter() - t0)
    out.unlink(missing_ok=True)
    med = {k: statistics.median(v) for k, v in timings.items()}
    ratio = med["raw GROUP BY"] / med["credit_report"]
    result = {"timestamp": time.strftime("%Y%m%d-%H%M%S"), "database": connection.settings_dict["NAME"],
              "year": args.year, "records_that_year": records, "totals_that_year": totals, "rows": rows,
              "seconds": {k: [round(x, 3) for x in v] for k, v in timings.items()},
              "median_seconds": {k: round(v, 3) for k, v in med.items()},
              "groupby_over_report": round(ratio, 2), "target": TARGET, "load": os.getloadavg(),
              "groupby_over_floors": {name: round(med["raw GROUP BY"] / med[name], 2) for name in floors},
              "result": "PASS" if ratio >= TARGET else "FAIL"}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"report-{result['timestamp']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"year {args.year}: {records:,} credit records, {totals:,} yearly totals, "
          f"{rows['credit_report']:,} report rows")
    for name, seconds in med.items():
        extra = f"  (GROUP BY / this = {med['raw GROUP BY'] / seconds:.2f})" if name in floors else ""
        print(f"  {name:<22} {seconds:7.2f} s (median of {args.repeat}){extra}")
    print(f"  GROUP BY / credit_report = {ratio:.2f} (target >= {TARGET}): {result['result']}")
    print(f"written {path.relative_to(ROOT)}")
    return 0 if ratio >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
