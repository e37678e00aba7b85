"""The fault tests' own services: a PostgreSQL cluster in a temporary directory, a
Redis, the portal under gunicorn and a Celery worker, each on a free loopback port.

Nothing here touches the machine's own PostgreSQL (5432) or Redis (6379): every
process is started by these classes, stopped by them and its files deleted. A
missing binary fails the test (CI must never skip these silently).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
ARTIFACTS = ROOT / "test-artifacts"

# Variables of the surrounding test run that must not leak into the stack's processes.
_FOREIGN = ("DATABASE_URL", "REDIS_URL", "CELERY_QUEUE", "CACHE_KEY_PREFIX", "MEDIA_ROOT", "PORTAL_TEST_SHARED_MEDIA",
            "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE", "PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_until(predicate, *, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def required_binary(path_or_name: str) -> str:
    found = path_or_name if os.path.isabs(path_or_name) and os.access(path_or_name, os.X_OK) else shutil.which(
        path_or_name)
    if not found:
        pytest.fail(f"{path_or_name} is required by the fault tests and is missing (install it; they never skip)")
    return found


def _postgres_bindir() -> str:
    for candidate in ["/usr/lib/postgresql/15/bin", *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]:
        if os.access(os.path.join(candidate, "pg_ctl"), os.X_OK):
            return candidate
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if bindir and os.access(os.path.join(bindir, "pg_ctl"), os.X_OK):
            return bindir
    pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) are required by the fault tests and are missing")


class Postgres:
    """A throw-away cluster. PostgreSQL refuses to run as root, so as root every
    server command runs as the `postgres` OS user (runuser), the directory chowned to it."""

    def __init__(self, base: Path):
        self.bindir = _postgres_bindir()
        self.dir = base / "pg"
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.port = free_port()
        self._as: list[str] = []
        self._owner: tuple[int, int] | None = None
        if os.geteuid() == 0:
            try:
                entry = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root needs the `postgres` OS user to start a PostgreSQL server")
            self._as = [required_binary("runuser"), "-u", "postgres", "--"]
            self._owner = (entry.pw_uid, entry.pw_gid)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/portal"

    def dsn(self, dbname: str = "portal") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(args[:2])} failed: {result.stdout}\n{result.stderr}\n{_tail(self.log)}")
        return result

    def init(self) -> None:
        self.dir.mkdir(parents=True)
        if self._owner:
            os.chown(self.dir, *self._owner)
            os.chown(self.dir.parent, *self._owner)  # the base folder must be traversable by that user
        self.dir.chmod(0o700)
        self._run(f"{self.bindir}/initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c max_connections=60 -c shared_buffers=32MB")
        self._run(f"{self.bindir}/pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log),
                  "-o", options)

    def stop(self, mode: str = "fast") -> None:
        self._run(f"{self.bindir}/pg_ctl", "stop", "-w", "-t", "60", "-D", str(self.data), "-m", mode)

    def restart(self) -> None:
        self._run(f"{self.bindir}/pg_ctl", "restart", "-w", "-t", "60", "-D", str(self.data), "-m", "fast")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str = "portal") -> None:
        self._run(f"{self.bindir}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def destroy(self) -> None:
        if self.running():
            try:
                self.stop("immediate")
            except Exception:  # noqa: S110 - best effort on the way out
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    """A Redis with no persistence: a stop loses whatever was queued, as an outage would."""

    def __init__(self, base: Path):
        self.binary = required_binary("redis-server")
        self.port = free_port()
        self.dir = base / "redis"
        self.dir.mkdir()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.dir / "redis.log", "a")  # kept open for the process's life
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)], stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: port_open(self.port), timeout=30, what="redis-server")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        wait_until(lambda: not port_open(self.port), timeout=15, what="redis-server to stop")

    def destroy(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=15)
        shutil.rmtree(self.dir, ignore_errors=True)


class Process:
    """A portal process (gunicorn, celery) with its log under the stack's folder."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        handle = open(self.log, "a")  # kept open for the process's life
        # A process group of its own: stopping it stops gunicorn's workers too, and nothing else.
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 30) -> None:
        if not self.alive():
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait(timeout=15)

    def kill(self) -> None:
        """SIGKILL, as the kernel's OOM killer or a pulled plug would."""
        if self.alive():
            self.signal(signal.SIGKILL)
            self.proc.wait(timeout=15)

    def tail(self) -> str:
        return _tail(self.log)


class Stack:
    """PostgreSQL + Redis + the portal's processes, all private to one test session."""

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="portal-faults-"))
        self.base.chmod(0o755)
        self.media = self.base / "media"
        self.media.mkdir()
        self.pg = Postgres(self.base)
        self.redis = Redis(self.base)
        self.queue = f"portal-faults-{os.getpid()}"
        self.processes: list[Process] = []

    def env(self, **extra: str) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
        env.update(
            DJANGO_SETTINGS_MODULE="portal.settings", DEBUG="1", DATABASE_URL=self.pg.url, REDIS_URL=self.redis.url,
            CELERY_QUEUE=self.queue, CACHE_KEY_PREFIX=self.queue, MEDIA_ROOT=str(self.media), HTTPS="0",
            DB_CONN_MAX_AGE="60", LOG_LEVEL="INFO", PYTHONUNBUFFERED="1",
            # Many registrations from 127.0.0.1 in a few minutes; codes may be re-asked at once.
            SMS_HOURLY_LIMIT_PER_IP="100000", SMS_RESEND_SECONDS="1",
            # Credit batches in chunks of 100 records, so a killed worker can leave one half processed.
            CE_CREDIT_CHUNK_RECORDS="100",
        )
        env.update(extra)
        return env

    def up(self) -> None:
        self.pg.init()
        self.pg.start()
        self.pg.create_database()
        self.redis.start()
        self.manage("migrate", "--noinput", "-v0", timeout=300)
        self.manage("load_reference_data", timeout=120)
        self.manage("setup_roles", timeout=120)

    def manage(self, *args: str, timeout: float = 120, env: dict | None = None) -> str:
        result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env or self.env(), capture_output=True,
                                text=True, timeout=timeout, check=False)
        if result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr[-4000:]}")
        return result.stdout

    def python(self, code: str, *, timeout: float = 120) -> str:
        """Run Django code in the stack's configuration (`manage.py shell -c`); its stdout."""
        return self.manage("shell", "-c", code, timeout=timeout)

    def app(self, name: str = "app", **extra: str) -> App:
        port = free_port()
        process = App(name, [PYTHON, "-m", "gunicorn", "portal.wsgi:application", "-b", f"127.0.0.1:{port}",
                             "--workers", "2", "--threads", "4", "--timeout", "120", "--graceful-timeout", "5"],
                      self.env(**extra), self.base / f"{name}.log", port)
        self.processes.append(process)
        process.start()
        process.wait_ready()
        return process

    def worker(self, name: str = "worker") -> Worker:
        process = Worker(name, [PYTHON, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "--loglevel=INFO",
                                "-Q", self.queue, "-n", f"{name}-{os.getpid()}@%h", "--without-mingle",
                                "--without-gossip"],
                         self.env(), self.base / f"{name}.log")
        self.processes.append(process)
        process.start()
        process.wait_ready()
        return process

    def down(self) -> None:
        for process in reversed(self.processes):
            try:
                process.stop(timeout=10)
            except Exception:  # noqa: S110 - best effort on the way out
                pass
        if ARTIFACTS.is_dir():  # CI keeps the logs
            target = ARTIFACTS / "faults"
            target.mkdir(exist_ok=True)
            for log in [*self.base.glob("*.log"), self.pg.log, self.redis.dir / "redis.log"]:
                if log.exists():
                    shutil.copy(log, target / log.name)
        self.redis.destroy()
        self.pg.destroy()
        shutil.rmtree(self.base, ignore_errors=True)


class App(Process):
    def __init__(self, name, argv, env, log, port):
        super().__init__(name, argv, env, log)
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self) -> None:
        import requests

        def ready():
            if not self.alive():
                raise AssertionError(f"{self.name} exited:\n{self.tail()}")
            try:
                return requests.get(self.url + "/healthz", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, timeout=120, what=f"{self.name} (gunicorn) to answer", interval=0.5)


class Worker(Process):
    def _readies(self) -> int:
        return self.log.read_text(errors="replace").count(" ready.") if self.log.exists() else 0

    def start(self) -> None:
        self._seen = self._readies()  # the log is appended to across restarts
        super().start()

    def wait_ready(self) -> None:
        def ready():
            if not self.alive():
                raise AssertionError(f"{self.name} exited:\n{self.tail()}")
            return self._readies() > self._seen

        wait_until(ready, timeout=120, what=f"{self.name} (celery) to be ready", interval=0.5)
