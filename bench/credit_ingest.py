"""Credit-batch ingestion benchmark (issue point 18).

Posts N credit records (default 100,000) in signed batches of 1,000 to a real
server (gunicorn + PostgreSQL + a Celery worker on Redis), polls every batch
until it is done and prints the end-to-end rate (records/s from the first POST
to the last batch done). In the same run it measures the rate of a raw
PostgreSQL multi-row upsert (INSERT ... ON CONFLICT DO NOTHING, psycopg2
execute_values, batches of 1,000) of the same rows into a scratch table shaped
like the credit record table. Target: end-to-end >= 0.4 x raw.

    .venv/bin/python bench/credit_ingest.py                  # 100,000 records
    .venv/bin/python bench/credit_ingest.py --records 10000  # quicker

See bench/README.md. Only 127.0.0.1 is used; gunicorn and the worker are
always stopped at the end.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/portal_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/3"
TARGET_RATIO = 0.4


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, default=100_000, help="records to post (default 100000)")
    p.add_argument("--per-person", type=int, default=5, help="records per learner (default 5)")
    p.add_argument("--batch-size", type=int, default=1000, help="records per batch (default 1000, the API max)")
    p.add_argument("--clients", type=int, default=4, help="concurrent posting threads (default 4)")
    p.add_argument("--year", type=int, default=2025)
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--gunicorn-workers", type=int, default=2)
    p.add_argument("--gunicorn-threads", type=int, default=4)
    p.add_argument("--celery-concurrency", type=int, default=2)
    p.add_argument("--timeout", type=float, default=1800, help="give up waiting for batches after this many s")
    return p.parse_args()


# --- environment (the same for this process, gunicorn and the worker) -----------------


def bench_env() -> dict:
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DB)
    env.setdefault("REDIS_URL", DEFAULT_REDIS)
    env["DEBUG"] = "1"  # development keys (the same in every process)
    env["HTTPS"] = "0"
    env["ALLOWED_HOSTS"] = "127.0.0.1"
    env["CELERY_QUEUE"] = f"bench-{os.getpid()}"
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    return env


def ensure_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    parts = urllib.parse.urlparse(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                             password=parts.password, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            print(f"creating database {name}")
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()


# --- data ------------------------------------------------------------------------------


def id_number(i: int) -> str:
    """A valid 居民身份证 number, unique per i (1,000 per birth date)."""
    from accounts.identity import mod11_2_check_char

    birth = dt.date(1970, 1, 1) + dt.timedelta(days=i // 1000)
    body = f"520102{birth:%Y%m%d}{i % 1000:03d}"
    return body + mod11_2_check_char(body)


def person_name(i: int) -> str:
    return f"基准{i:06d}"


def ensure_people(n: int) -> list[int]:
    """n collected learners (bulk inserts; created once, reused by later runs). Returns user ids by index."""
    from django.db import transaction
    from django.utils import timezone

    from accounts.identity import IdType, encrypt_id_number, id_lookup_hash, login_username, mask_id_number
    from accounts.models import User
    from collection.models import Archive, ArchiveStatus, Division, EmploymentStatus, Ethnicity, PoliticalStatus

    hashes = [id_lookup_hash(id_number(i)) for i in range(n)]
    existing = dict(User.objects.filter(id_hash__in=hashes).values_list("id_hash", "pk"))
    missing = [i for i in range(n) if hashes[i] not in existing]
    if missing:
        print(f"creating {len(missing)} collected learners (bulk insert)")
        ethnicity = Ethnicity.objects.order_by("pk").first()
        political = PoliticalStatus.objects.order_by("pk").first()
        division = Division.objects.filter(code="520102").first() or Division.objects.order_by("pk").first()
        now = timezone.now()
        for start in range(0, len(missing), 2000):
            chunk = missing[start:start + 2000]
            with transaction.atomic():
                users = User.objects.bulk_create([
                    User(username=login_username(id_number(i)), name=person_name(i), id_type=IdType.RESIDENT_ID_CARD,
                         id_number_encrypted=encrypt_id_number(id_number(i)), id_hash=hashes[i],
                         id_number_masked=mask_id_number(id_number(i)), password="!bench")
                    for i in chunk
                ])
                Archive.objects.bulk_create([
                    Archive(user=u, status=ArchiveStatus.COLLECTED, archive_number=f"BENCH{i:09d}",
                            collected_at=now, notice_accepted_at=now, personal_done=True, education_done=True,
                            professional_done=True, work_done=True, ethnicity=ethnicity, political_status=political,
                            photo="bench/photo.jpg", id_card_front="bench/front.jpg", id_card_back="bench/back.jpg",
                            employment_status=EmploymentStatus.ACCOUNTING, employer="基准测试单位", division=division)
                    for i, u in zip(chunk, users, strict=True)
                ])
        existing = dict(User.objects.filter(id_hash__in=hashes).values_list("id_hash", "pk"))
    return [existing[h] for h in hashes]


def make_records(n_records: int, per_person: int, year: int, run: str) -> list[dict]:
    records = []
    for k in range(n_records):
        i = k // per_person
        credits = Decimal(1 + (k * 7) % 40) / 2  # 0.5 .. 20.0, one decimal place
        records.append({
            "record_id": f"{run}-{k:07d}", "id_type": "resident_id_card", "id_number": id_number(i),
            "name": person_name(i), "year": year, "category": "公需科目" if k % 3 == 0 else "专业科目",
            "credits": float(credits), "course": f"基准课程 {k % 50}",
            "completed_at": (dt.date(year, 1, 1) + dt.timedelta(days=k % 300)).isoformat(),
        })
    return records


# --- server processes --------------------------------------------------------------------


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    out = log.open("w")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: gunicorn/celery and their children only
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def wait_ready(base: str, procs: list[subprocess.Popen], seconds: float = 60) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise SystemExit(f"a server process exited early (rc {p.returncode}); see bench/results/*.log")
        try:
            if requests.get(base + "/api/v1/openapi.json", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


def wait_worker(env: dict, seconds: float = 60) -> None:
    from portal.celery import app

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        replies = app.control.inspect(timeout=1.0).active_queues() or {}
        if any(q["name"] == env["CELERY_QUEUE"] for qs in replies.values() for q in qs):
            return
        time.sleep(0.5)
    raise SystemExit("the Celery worker did not come up in time")


# --- the end-to-end run ------------------------------------------------------------------


def signed_headers(key_id: str, secret: str, body: bytes) -> dict:
    from education.api_auth import sign

    ts = str(int(time.time()))
    return {"X-Institution-Key": key_id, "X-Timestamp": ts, "X-Signature": sign(secret, ts, body),
            "Content-Type": "application/json"}


def end_to_end(base: str, key_id: str, secret: str, batches: list[list[dict]], clients: int, timeout: float):
    import requests

    session_local = __import__("threading").local()

    def session():
        if not hasattr(session_local, "s"):
            session_local.s = requests.Session()
        return session_local.s

    def post(batch):
        body = json.dumps({"records": batch}, ensure_ascii=False).encode()
        r = session().post(base + "/api/v1/credit-batches", data=body, headers=signed_headers(key_id, secret, body),
                           timeout=120)
        if r.status_code != 202:
            raise RuntimeError(f"POST -> {r.status_code}: {r.text[:300]}")
        return r.json()["batch_id"]

    t0 = time.time()
    with cf.ThreadPoolExecutor(clients) as pool:
        batch_ids = list(pool.map(post, batches))
    t_posted = time.time()

    reports = {}
    deadline = time.monotonic() + timeout
    pending = list(batch_ids)
    s = requests.Session()
    while pending:
        if time.monotonic() > deadline:
            raise SystemExit(f"timeout: {len(pending)} batches not done")
        bid = pending[0]
        r = s.get(f"{base}/api/v1/credit-batches/{bid}", headers=signed_headers(key_id, secret, b""), timeout=60)
        r.raise_for_status()
        data = r.json()
        if data["status"] == "done":
            reports[bid] = data
            pending.pop(0)
        else:
            time.sleep(0.25)
    t_done = time.time()
    finished = max(dt.datetime.fromisoformat(d["finished_at"]).timestamp() for d in reports.values())
    return {"t0": t0, "posted_s": t_posted - t0, "observed_s": t_done - t0, "server_s": finished - t0,
            "batch_ids": batch_ids, "reports": reports}


# --- the raw rate --------------------------------------------------------------------------


def raw_upsert(records: list[dict], user_ids: list[int], per_person: int, institution_id: int, batch_size: int):
    """Multi-row INSERT ... ON CONFLICT DO NOTHING of the same rows into a scratch copy of the credit table."""
    import psycopg2
    from psycopg2.extras import execute_values

    from education.models import CreditRecord

    table = CreditRecord._meta.db_table
    scratch = f"bench_scratch_credit_{os.getpid()}"
    category = {"公需科目": "public", "专业科目": "professional"}
    rows = [(user_ids[k // per_person], "institution", institution_id, r["record_id"], r["year"],
             category[r["category"]], Decimal(str(r["credits"])), r["course"], r["completed_at"])
            for k, r in enumerate(records)]
    conn = psycopg2.connect(os.environ["DATABASE_URL"])
    try:
        with conn, conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {scratch}")
            cur.execute(f"CREATE TABLE {scratch} (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY "
                        f"INCLUDING CONSTRAINTS)")
            cur.execute(f"ALTER TABLE {scratch} ADD UNIQUE (institution_id, record_id)")
            cur.execute(f"CREATE INDEX ON {scratch} (user_id, year)")
        sql = (f"INSERT INTO {scratch} (user_id, source, institution_id, record_id, year, category, credits, "
               f"course, completed_at, created_at) VALUES %s ON CONFLICT (institution_id, record_id) DO NOTHING")
        template = "(%s, %s, %s, %s, %s, %s, %s, %s, %s, now())"
        t0 = time.perf_counter()
        inserted = 0
        with conn.cursor() as cur:
            for start in range(0, len(rows), batch_size):
                execute_values(cur, sql, rows[start:start + batch_size], template=template, page_size=batch_size)
                inserted += cur.rowcount
                conn.commit()  # one transaction per batch, like one API batch
        seconds = time.perf_counter() - t0
        with conn, conn.cursor() as cur:
            cur.execute(f"DROP TABLE {scratch}")
    finally:
        conn.close()
    return {"seconds": seconds, "inserted": inserted}


# --- main ----------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    # SIGTERM/SIGINT end the run through the `finally` that stops gunicorn and the worker.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: sys.exit(130))
    env = bench_env()
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    RESULTS.mkdir(parents=True, exist_ok=True)
    n_people = -(-args.records // args.per_person)

    ensure_database(env["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Sum

    from collection.models import Ethnicity
    from education import services
    from education.models import CreditYearTotal

    t_setup = time.perf_counter()
    call_command("migrate", "--noinput", verbosity=0)
    if not Ethnicity.objects.exists():
        call_command("load_reference_data", verbosity=0)
    user_ids = ensure_people(n_people)
    run = f"b{int(time.time())}"
    institution = services.institution_save(code=f"BENCH-{run}", name=f"基准测试机构 {run}",
                                            platform_url="https://bench.invalid/", years=[args.year]).institution
    from education.models import Enrolment

    Enrolment.objects.bulk_create([Enrolment(user_id=u, institution=institution, year=args.year) for u in user_ids],
                                  batch_size=2000)
    key, secret = services.institution_api_key_issue(institution=institution)
    records = make_records(args.records, args.per_person, args.year, run)
    batches = [records[i:i + args.batch_size] for i in range(0, len(records), args.batch_size)]
    before = {r["user_id"]: r["total"] for r in
              CreditYearTotal.objects.filter(user_id__in=user_ids, year=args.year).values("user_id", "total")}
    expected = {}
    for k, r in enumerate(records):
        uid = user_ids[k // args.per_person]
        expected[uid] = expected.get(uid, Decimal("0")) + Decimal(str(r["credits"]))
    setup_s = time.perf_counter() - t_setup
    connection.close()
    print(f"setup: {n_people} learners, institution {institution.code}, {len(batches)} batches ({setup_s:.1f}s)")

    base = f"http://127.0.0.1:{args.port}"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    gunicorn = worker = None
    try:
        gunicorn = start([str(VENV_BIN / "gunicorn"), "portal.wsgi:application", "-b", f"127.0.0.1:{args.port}",
                          "--workers", str(args.gunicorn_workers), "--threads", str(args.gunicorn_threads),
                          "--timeout", "120"], env, RESULTS / f"gunicorn-{stamp}.log")
        worker = start([str(VENV_BIN / "celery"), "-A", "portal", "worker", "--concurrency",
                        str(args.celery_concurrency), "-Q", env["CELERY_QUEUE"], "--loglevel", "WARNING",
                        "--without-gossip", "--without-mingle", "--without-heartbeat"],
                       env, RESULTS / f"celery-{stamp}.log")
        wait_ready(base, [gunicorn, worker])
        wait_worker(env)
        print(f"server up ({base}, queue {env['CELERY_QUEUE']}); posting {args.records} records ...")
        e2e = end_to_end(base, key.key_id, secret, batches, args.clients, args.timeout)
    finally:
        stop(gunicorn)
        stop(worker)
        # The run's institution stays for the record but leaves the 远程教育 list, which
        # bench/pages.py measures on the same database.
        from education.models import Institution

        Institution.objects.filter(pk=institution.pk).update(is_active=False)

    counts = {"accepted": 0, "duplicate": 0, "rejected": 0, "pending": 0}
    reasons = {}
    for rep in e2e["reports"].values():
        for name, n in rep["counts"].items():
            counts[name] += n
        for rec in rep["records"]:
            if rec.get("reason"):
                reasons[rec["reason"]] = reasons.get(rec["reason"], 0) + 1
    after = {r["user_id"]: r["total"] for r in
             CreditYearTotal.objects.filter(user_id__in=user_ids, year=args.year).values("user_id", "total")}
    wrong_totals = sum(1 for uid, add in expected.items()
                       if after.get(uid, Decimal("0")) - before.get(uid, Decimal("0")) != add)
    stored_sum = CreditYearTotal.objects.filter(user_id__in=user_ids, year=args.year).aggregate(s=Sum("total"))["s"]
    connection.close()

    print("raw PostgreSQL multi-row upsert of the same rows ...")
    raw = raw_upsert(records, user_ids, args.per_person, institution.pk, args.batch_size)

    e2e_seconds = e2e["observed_s"]
    e2e_rate = args.records / e2e_seconds
    raw_rate = args.records / raw["seconds"]
    ratio = e2e_rate / raw_rate
    ok_data = counts["accepted"] == args.records and wrong_totals == 0 and raw["inserted"] == args.records
    passed = ok_data and ratio >= TARGET_RATIO
    result = {
        "timestamp": stamp, "records": args.records, "batch_size": args.batch_size, "batches": len(batches),
        "learners": n_people, "clients": args.clients,
        "gunicorn": f"{args.gunicorn_workers}w x {args.gunicorn_threads}t",
        "celery_concurrency": args.celery_concurrency, "cpus": os.cpu_count(), "setup_seconds": round(setup_s, 2),
        "end_to_end": {"seconds": round(e2e_seconds, 3), "posting_seconds": round(e2e["posted_s"], 3),
                       "server_finished_seconds": round(e2e["server_s"], 3), "records_per_s": round(e2e_rate, 1),
                       "counts": counts, "reasons": reasons, "totals_wrong": wrong_totals,
                       "totals_added": str(sum(expected.values())), "totals_stored_sum": str(stored_sum)},
        "raw_upsert": {"seconds": round(raw["seconds"], 3), "inserted": raw["inserted"],
                       "records_per_s": round(raw_rate, 1)},
        "ratio": round(ratio, 4), "target_ratio": TARGET_RATIO, "data_ok": ok_data,
        "result": "PASS" if passed else "FAIL",
    }
    out = RESULTS / f"credit_ingest-{stamp}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")

    rows = [
        ("records", f"{args.records} in {len(batches)} batches of {args.batch_size}"),
        ("accepted / duplicate / rejected", f"{counts['accepted']} / {counts['duplicate']} / {counts['rejected']}"),
        ("yearly totals", "all exact" if wrong_totals == 0 else f"{wrong_totals} WRONG"),
        ("all POSTs answered (202)", f"{e2e['posted_s']:.1f} s"),
        ("end to end (first POST → last batch done)", f"{e2e_seconds:.1f} s  = {e2e_rate:,.0f} records/s"),
        ("raw multi-row upsert", f"{raw['seconds']:.2f} s  = {raw_rate:,.0f} records/s"),
        ("ratio end-to-end / raw", f"{ratio:.3f}  (target ≥ {TARGET_RATIO})"),
        ("result", result["result"] + ("" if ok_data else " (data check failed)")),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")
    print(f"\nwritten {out.relative_to(ROOT)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
