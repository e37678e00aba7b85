"""Login cost (issue 8 point 4): the Argon2 parameters in use and the logins per second
and per core they allow on this machine.

Times N `check_password` calls of the configured hasher in one process (wall time
and the CPU time of all its threads: Argon2 with parallelism > 1 runs its lanes in
threads), and for comparison OWASP's minimum (argon2id, m=19 MiB, t=2, p=1).

    .venv/bin/python bench/login.py              # 20 checks each
    .venv/bin/python bench/login.py --checks 50
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
OWASP_MIN = {"time_cost": 2, "memory_cost": 19 * 1024, "parallelism": 1}


def measure(hasher, password: str, checks: int) -> dict:
    encoded = hasher.encode(password, hasher.salt())
    hasher.verify(password, encoded)  # warm-up
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for _ in range(checks):
        assert hasher.verify(password, encoded)
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {"params": {"time_cost": hasher.time_cost, "memory_cost_kib": hasher.memory_cost,
                       "parallelism": hasher.parallelism},
            "checks": checks, "wall_ms_per_check": round(wall / checks * 1000, 1),
            "cpu_ms_per_check": round(cpu / checks * 1000, 1),
            "checks_per_s_one_process": round(checks / wall, 1),
            "checks_per_s_per_core": round(checks / cpu, 1)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checks", type=int, default=20)
    args = p.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "1")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import Argon2PasswordHasher, get_hasher

    hasher = get_hasher()
    password = "Kj#Bench2026pass"
    configured = measure(hasher, password, args.checks)
    configured["hasher"] = settings.PASSWORD_HASHERS[0]

    class OwaspMinimum(Argon2PasswordHasher):
        time_cost = OWASP_MIN["time_cost"]
        memory_cost = OWASP_MIN["memory_cost"]
        parallelism = OWASP_MIN["parallelism"]

    owasp = measure(OwaspMinimum(), password, args.checks)
    strong_enough = (hasher.algorithm == "argon2" and hasher.memory_cost >= OWASP_MIN["memory_cost"]
                     and hasher.time_cost >= OWASP_MIN["time_cost"])
    result = {"timestamp": time.strftime("%Y%m%d-%H%M%S"), "cpus": os.cpu_count(), "load": os.getloadavg(),
              "configured": configured, "owasp_minimum": owasp, "at_least_owasp_minimum": strong_enough}
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"login-{result['timestamp']}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    for label, r in (("configured " + configured["hasher"].rsplit(".", 1)[1], configured),
                     ("OWASP minimum (argon2id)", owasp)):
        pr = r["params"]
        print(f"{label:<34} t={pr['time_cost']} m={pr['memory_cost_kib'] // 1024} MiB p={pr['parallelism']}: "
              f"{r['wall_ms_per_check']:7.1f} ms wall, {r['cpu_ms_per_check']:7.1f} ms CPU per check -> "
              f"{r['checks_per_s_one_process']:6.1f} logins/s in one process, "
              f"{r['checks_per_s_per_core']:6.1f} logins/s per core")
    print(f"configured hash at least OWASP's minimum: {'yes' if strong_enough else 'NO'}")
    print(f"written {out.relative_to(ROOT)}")
    return 0 if strong_enough else 1


if __name__ == "__main__":
    sys.exit(main())
