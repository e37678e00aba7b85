"""Page benchmark at provincial scale (issue 8 point 2).

Two gunicorn servers run side by side on PostgreSQL + Redis, one on a database
seeded with 1,000 accountants and one with 300,000 (`manage.py seed_scale`). wrk
(8 connections) loads one page at a time, alternating between the two servers, as
logged-in seeded people (sessions written straight into the session store, each
request as the next person of the list), and in the same run a bare Django view
(`/ping`) under the same server settings. Two reference rows measure the floor of
any logged-in page under the same settings (`bench/bench_urls.py`): session and
user only with a constant body, and the same rendering the empty layout.

Targets: every page >= 0.35 x the bare view's throughput; p99 <= 3 x p50;
p50 at 300k <= 1.2 x p50 at 1k.

    .venv/bin/python bench/pages.py                       # both databases, 10 s per page and round
    .venv/bin/python bench/pages.py --duration 5 --rounds 1 --skip-seed

See bench/README.md. Only 127.0.0.1 is used; the servers are always stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from credit_ingest import ROOT, VENV_BIN, ensure_database, start, stop

RESULTS = ROOT / "bench" / "results"
PG = "postgres://postgres@127.0.0.1:5432/"
DEFAULT_SMALL = PG + "portal_bench_1k"
DEFAULT_LARGE = PG + "portal_bench_300k"
DEFAULT_REDIS = "redis://127.0.0.1:6379/4"
THROUGHPUT_TARGET = 0.35
TAIL_TARGET = 3.0
SCALE_TARGET = 1.2
# The baseline and the floors of a logged-in page (bench/bench_urls.py): reported, not judged.
REFERENCE = {"/ping", "/bench/floor-user", "/bench/floor-layout"}
# Development keys, written out so the servers run with DEBUG off (as in production) yet
# read the ID numbers the seeding encrypted with the development defaults.
KEYS = {
    "SECRET_KEY": "django-insecure-dev-only-0d7f3c9a1b2e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c",
    "ID_ENCRYPTION_KEYS": "ZGV2LW9ubHktaWQtZW5jcnlwdGlvbi1rZXktMDAwMDA=",
    "ID_HASH_KEY": "dev-only-id-hash-key",
}

WRK_SCRIPT = r"""
local cookies = {}
local path
local idx = 0
init = function(args)
  for line in io.lines(args[1]) do cookies[#cookies + 1] = line end
  path = args[2]
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 1000)
  idx = math.random(#cookies)
end
request = function()
  idx = idx % #cookies + 1
  if cookies[idx] == "-" then return wrk.format("GET", path) end
  return wrk.format("GET", path, {["Cookie"] = "sessionid=" .. cookies[idx]})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "status_errors": %d, "socket_errors": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
"""


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--small-db", default=DEFAULT_SMALL, help="database URL of the 1,000-accountant data set")
    p.add_argument("--large-db", default=DEFAULT_LARGE, help="database URL of the 300,000-accountant data set")
    p.add_argument("--small", type=int, default=1000, help="accountants in the small data set (default 1000)")
    p.add_argument("--large", type=int, default=300_000, help="accountants in the large data set (default 300000)")
    p.add_argument("--records-per-person", type=int, default=10, help="credit records per person (default 10)")
    p.add_argument("--skip-seed", action="store_true", help="use the databases as they are (no seed_scale top-up)")
    p.add_argument("--only-large", action="store_true", help="one server only (no 1k comparison)")
    p.add_argument("--duration", type=int, default=10, help="seconds per page, server and round (default 10)")
    p.add_argument("--rounds", type=int, default=2, help="rounds over all pages (default 2; medians are reported)")
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--people", type=int, default=500, help="logged-in people per server (default 500)")
    p.add_argument("--workers", type=int, default=None, help="gunicorn workers (default 2 x cores + 1)")
    p.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (default 1: sync)")
    p.add_argument("--worker-class", default=None, help="gunicorn worker class (default: sync, gthread if threads>1)")
    p.add_argument("--port", type=int, default=8771)
    p.add_argument("--pages", default="", help="comma-separated page names to run (default all)")
    return p.parse_args()


def server_env(db_url: str) -> dict:
    env = dict(os.environ)
    env.update(KEYS)
    env.update({
        "DATABASE_URL": db_url, "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        "CACHE_KEY_PREFIX": "bench-" + urllib.parse.urlparse(db_url).path.lstrip("/"),
        "DEBUG": "0", "HTTPS": "0", "STATIC_MANIFEST": "0", "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "portal.settings",
    })
    return env


def manage(env: dict, *args: str) -> str:
    out = subprocess.run([str(VENV_BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True)
    return out.stdout


def prepare(db_url: str, people: int, records: int, skip_seed: bool) -> None:
    ensure_database(db_url)
    env = server_env(db_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    if not skip_seed:
        t0 = time.perf_counter()
        print(f"  seed_scale --accountants {people} --credit-records {records} on {db_url.rsplit('/', 1)[1]} ...")
        tail = manage(env, "seed_scale", "--accountants", str(people), "--credit-records", str(records))
        print("    " + tail.strip().splitlines()[-1] + f" ({time.perf_counter() - t0:.0f} s)")


SESSION_SCRIPT = r"""
import json, sys
import django
django.setup()
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from accounts.models import User
from portal import scale

n = int(sys.argv[1])
store = import_module(settings.SESSION_ENGINE).SessionStore
out = {}
for kind, ids in (("typical", scale.seeded_people(typical=True, limit=n)),
                  ("draft", scale.seeded_people(draft=True, limit=max(n // 10, 20)))):
    keys = []
    for user in User.objects.filter(pk__in=ids).only("pk", "password"):
        s = store()
        s[SESSION_KEY] = str(user.pk)
        s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.create()
        keys.append(s.session_key)
    out[kind] = keys
print(json.dumps(out))
"""


def sessions(db_url: str, n: int) -> dict[str, list[str]]:
    """Logged-in sessions written straight into the server's session store (Redis)."""
    env = server_env(db_url)
    out = subprocess.run([str(VENV_BIN / "python"), "-c", SESSION_SCRIPT, str(n)], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def pages(year: int) -> list[tuple[str, str, str, str]]:
    """(name, path, which sessions, a text the page must contain)."""
    return [
        ("ping (bare view)", "/ping", "anonymous", "ok"),
        ("floor: logged in, constant body", "/bench/floor-user", "typical", "ok"),
        ("floor: logged in, empty layout", "/bench/floor-layout", "typical", "贵州省财政会计网"),
        ("我的首页 accounts:home", "/accounts/home/", "typical", "已采集"),
        ("采集状态 collection:status", "/collection/status/", "typical", "已采集"),
        ("继续教育记录查询 education:credits", f"/education/credits/?year={year}", "typical", "合计"),
        ("查看明细 education:credit_detail", f"/education/credits/detail/?year={year}", "typical", "学分"),
        ("远程教育 education:remote", f"/education/remote/?year={year}", "typical", "贵州会计继续教育网校"),
        ("wizard 个人信息 collection:personal", "/collection/personal/", "draft", "个人信息"),
    ]


def wait_up(base: str, procs, seconds: float = 60) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise SystemExit(f"gunicorn exited early (rc {p.returncode}); see bench/results/*.log")
        try:
            if requests.get(base + "/ping", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


def verify(base: str, path: str, cookies: list[str], marker: str) -> None:
    """Every page answers 200 with its content for the people it is loaded as (wrk counts a 302 as success)."""
    import requests

    for key in cookies[:10]:
        headers = {} if key == "-" else {"Cookie": f"sessionid={key}"}
        r = requests.get(base + path, headers=headers, allow_redirects=False, timeout=30)
        if r.status_code != 200 or marker not in r.text:
            raise SystemExit(f"{base}{path}: status {r.status_code}, marker {marker!r} "
                             f"{'found' if marker in r.text else 'missing'}")


def run_wrk(url: str, cookie_file: Path, script: Path, args) -> dict:
    cmd = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections), "-d", f"{args.duration}s",
           "--timeout", "10s", "-s", str(script), url, "--", str(cookie_file), urllib.parse.urlparse(url).path
           + ("?" + urllib.parse.urlparse(url).query if urllib.parse.urlparse(url).query else "")]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRKJSON "))
    data = json.loads(line[len("WRKJSON "):])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


def main() -> int:
    args = parse_args()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: sys.exit(130))
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `apt-get install -y wrk` (make bench installs it as root)")
    cores = os.cpu_count() or 1
    workers = args.workers or 2 * cores + 1
    worker_class = args.worker_class or ("gthread" if args.threads > 1 else "sync")
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    servers = [("300k", args.large_db, args.large)]
    if not args.only_large:
        servers.insert(0, ("1k", args.small_db, args.small))

    print("preparing the data sets")
    for _label, url, people in servers:
        prepare(url, people, people * args.records_per_person, args.skip_seed)

    year = time.localtime().tm_year - 1
    all_pages = pages(year)
    if args.pages:
        wanted = [w.strip() for w in args.pages.split(",")]
        all_pages = [p for p in all_pages if any(w in p[0] for w in wanted) or p[1] in REFERENCE]
    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    script = tmp / "pages.lua"
    script.write_text(WRK_SCRIPT)
    procs = {}
    try:
        cookie_files = {}
        for n, (label, url, _people) in enumerate(servers):
            keys = sessions(url, args.people)
            keys["anonymous"] = ["-"]
            for kind, values in keys.items():
                path = tmp / f"{label}-{kind}.txt"
                path.write_text("\n".join(values) + "\n")
                cookie_files[(label, kind)] = (path, values)
            port = args.port + n
            cmd = [str(VENV_BIN / "gunicorn"), "portal.wsgi:application", "-b", f"127.0.0.1:{port}",
                   "--workers", str(workers), "--worker-class", worker_class, "--threads", str(args.threads),
                   "--timeout", "60"]
            # The bench settings only add the reference views (bench/bench_urls.py).
            env = {**server_env(url), "DJANGO_SETTINGS_MODULE": "bench.bench_settings"}
            procs[label] = (start(cmd, env, RESULTS / f"pages-gunicorn-{label}-{stamp}.log"),
                            f"http://127.0.0.1:{port}")
        for label, (proc, base) in procs.items():
            wait_up(base, [proc])
            for _name, path, kind, marker in all_pages:
                verify(base, path, cookie_files[(label, kind)][1], marker)
        print(f"servers up: gunicorn {workers} workers x {args.threads} threads ({worker_class}); "
              f"wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s; {args.rounds} round(s)")

        # Warm-up: every page once for a few seconds on each server (imports, connections, caches).
        warm = argparse.Namespace(**{**vars(args), "duration": 2})
        for label, (_proc, base) in procs.items():
            for _name, path, kind, _marker in all_pages:
                run_wrk(base + path, cookie_files[(label, kind)][0], script, warm)

        samples: dict[tuple[str, str], list[dict]] = {}
        for r in range(args.rounds):
            for name, path, kind, _marker in all_pages:
                for label, (_proc, base) in procs.items():
                    data = run_wrk(base + path, cookie_files[(label, kind)][0], script, args)
                    samples.setdefault((label, name), []).append(data)
                    print(f"  round {r + 1} {label:>4} {name:<36} {data['rps']:8.1f} req/s  "
                          f"p50 {data['p50_us'] / 1000:6.1f} ms  p99 {data['p99_us'] / 1000:6.1f} ms"
                          + (f"  ERRORS {data['status_errors']}/{data['socket_errors']}"
                             if data["status_errors"] or data["socket_errors"] else ""))
    finally:
        for proc, _base in procs.values():
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)

    def med(label, name, key):
        return statistics.median(s[key] for s in samples[(label, name)])

    results = {"timestamp": stamp, "cpus": cores, "gunicorn": {"workers": workers, "threads": args.threads,
                                                                "worker_class": worker_class},
               "wrk": {"threads": args.wrk_threads, "connections": args.connections, "duration_s": args.duration,
                       "rounds": args.rounds}, "year": year, "servers": {}, "pages": [],
               "load": os.getloadavg()}
    for label, url, people in servers:
        results["servers"][label] = {"database": url.rsplit("/", 1)[1], "accountants": people}
    large = "300k"
    ping = all_pages[0][0]
    ping_rps = {label: med(label, ping, "rps") for label, _u, _p in servers}
    ok_all = True
    rows = []
    for name, path, _kind, _marker in all_pages:
        entry = {"page": name, "path": path}
        for label, _u, _p in servers:
            entry[label] = {"rps": round(med(label, name, "rps"), 1),
                            "p50_ms": round(med(label, name, "p50_us") / 1000, 2),
                            "p99_ms": round(med(label, name, "p99_us") / 1000, 2),
                            "mean_ms": round(med(label, name, "mean_us") / 1000, 2),
                            "errors": sum(s["status_errors"] + s["socket_errors"] for s in samples[(label, name)]),
                            "samples": samples[(label, name)]}
        big = entry[large]
        entry["throughput_vs_ping"] = round(big["rps"] / ping_rps[large], 3)
        entry["p99_over_p50"] = round(big["p99_ms"] / big["p50_ms"], 2) if big["p50_ms"] else None
        checks = {"throughput": entry["throughput_vs_ping"] >= THROUGHPUT_TARGET,
                  "tail": entry["p99_over_p50"] is not None and entry["p99_over_p50"] <= TAIL_TARGET,
                  "errors": big["errors"] == 0}
        if "1k" in entry:
            entry["p50_300k_over_1k"] = round(big["p50_ms"] / entry["1k"]["p50_ms"], 3)
            checks["scale"] = entry["p50_300k_over_1k"] <= SCALE_TARGET
        entry["reference"] = path in REFERENCE
        if entry["reference"]:  # the baseline and the floors: measured, not judged (errors aside)
            checks = {"errors": checks["errors"]}
        entry["pass"] = all(checks.values())
        entry["checks"] = checks
        ok_all = ok_all and entry["pass"]
        results["pages"].append(entry)
        rows.append((name, big["rps"], entry["throughput_vs_ping"], big["p50_ms"], big["p99_ms"],
                     entry["p99_over_p50"], entry.get("1k", {}).get("p50_ms"), entry.get("p50_300k_over_1k"),
                     ("reference" if entry["pass"] else "FAIL errors") if entry["reference"]
                     else "PASS" if entry["pass"] else "FAIL " + ",".join(k for k, v in checks.items() if not v)))
    results["result"] = "PASS" if ok_all else "FAIL"
    out = RESULTS / f"pages-{stamp}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")

    print()
    print(f"{'page':<38} {'req/s':>8} {'/ping':>6} {'p50 ms':>7} {'p99 ms':>7} {'p99/p50':>7} "
          f"{'1k p50':>7} {'300k/1k':>7}  result")
    for name, rps, ratio, p50, p99, tail, small_p50, scale_ratio, verdict in rows:
        print(f"{name:<38} {rps:8.1f} {ratio:6.2f} {p50:7.1f} {p99:7.1f} {tail or 0:7.2f} "
              f"{small_p50 if small_p50 is not None else float('nan'):7.1f} "
              f"{scale_ratio if scale_ratio is not None else float('nan'):7.2f}  {verdict}")
    print(f"targets: req/s >= {THROUGHPUT_TARGET} x ping; p99 <= {TAIL_TARGET} x p50; "
          f"p50 at 300k <= {SCALE_TARGET} x 1k.  Overall: {results['result']}")
    print(f"written {out.relative_to(ROOT)}")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
