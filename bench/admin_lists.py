"""Admin lists at provincial scale (issue 8 point 3): the time of each changelist page
of the staff back office, as a superuser with TOTP, against a seeded database.

    .venv/bin/python bench/admin_lists.py              # portal_bench_300k
    DATABASE_URL=postgres://... .venv/bin/python bench/admin_lists.py --repeat 5

Each list is loaded once to warm up, then `--repeat` times; the median is printed
with the rows of the table behind it. A list over a fraction of a second is marked
SLOW (exit status 1). Writes JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/portal_bench_300k"
LIMIT_S = 0.5


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    os.environ.setdefault("DATABASE_URL", DEFAULT_DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "1")  # development keys, as the seeding used
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib import admin
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from portal.paginators import estimated_row_count
    from tests.staff.helpers import make_staff, otp_login

    user = User.objects.filter(username="bench-admin-sys").first() or make_staff("bench-admin-sys", superuser=True)
    client = Client()
    otp_login(client, user)
    rows, slow = [], False
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - t0)
        median = statistics.median(times)
        slow |= median > LIMIT_S
        rows.append({"list": model._meta.label, "rows": estimated_row_count(model), "median_s": round(median, 3)})
    rows.sort(key=lambda r: -r["median_s"])
    for r in rows:
        flag = "SLOW" if r["median_s"] > LIMIT_S else ""
        print(f"  {r['list']:<32} {r['rows'] or 0:>12,} rows  {r['median_s'] * 1000:7.0f} ms  {flag}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"admin_lists-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"limit_s": LIMIT_S, "lists": rows, "load": os.getloadavg()}, indent=2) + "\n")
    print(f"written {path.relative_to(ROOT)}")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
