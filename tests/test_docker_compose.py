"""Static checks of the container set-up (docker-compose.yml and Dockerfile).

Plain functions: no database, no Docker daemon; the files are only parsed.
"""

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

APP_SERVICES = ("web", "worker", "beat")
IMAGE_SERVICES = (*APP_SERVICES, "migrate")
BACKING_SERVICES = ("postgres", "redis")


@pytest.fixture(scope="module")
def compose():
    # safe_load resolves the YAML anchors and `<<` merge keys, so each service
    # is checked as Compose will see it.
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict), "docker-compose.yml must be a mapping"
    return data


@pytest.fixture(scope="module")
def services(compose):
    services = compose.get("services")
    assert isinstance(services, dict) and services, "docker-compose.yml has no services"
    return services


def _depends_on(service):
    """depends_on normalised to {name: condition}; the short list form means service_started."""
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def _named_volume_sources(service):
    """Sources of the service's volume mounts that are named volumes (not host paths)."""
    sources = []
    for mount in service.get("volumes") or []:
        if isinstance(mount, str):
            source, sep, _target = mount.partition(":")
            if sep and not source.startswith((".", "/", "~", "$")):
                sources.append(source)
        elif mount.get("type", "volume") == "volume" and mount.get("source"):
            sources.append(mount["source"])
    return sources


def _mount_source_for(service, target):
    for mount in service.get("volumes") or []:
        if isinstance(mount, str):
            parts = mount.split(":")
            if len(parts) >= 2 and parts[1].rstrip("/") == target:
                return parts[0]
        elif str(mount.get("target", "")).rstrip("/") == target:
            return mount.get("source")
    return None


def _as_text(command):
    if isinstance(command, list):
        return " ".join(str(part) for part in command)
    return str(command or "")


def _dockerfile_instructions():
    """(INSTRUCTION, arguments) pairs with continuation lines joined and comments dropped."""
    instructions = []
    current = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, args = current.strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        current = ""
    if current.strip():
        keyword, _, args = current.strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    return instructions


def _exec_or_shell_args(args):
    """Arguments of CMD/ENTRYPOINT as a list, whether written in exec (JSON) or shell form."""
    if args.startswith("["):
        parsed = json.loads(args)
        assert isinstance(parsed, list)
        return [str(part) for part in parsed]
    return shlex.split(args)


# --------------------------------------------------------------------------- compose


def test_required_services_exist(services):
    missing = {"postgres", "redis", *APP_SERVICES} - set(services)
    assert not missing, f"docker-compose.yml lacks services: {sorted(missing)}"


def test_backing_service_images(services):
    assert str(services["postgres"].get("image", "")).startswith("postgres:15")
    assert str(services["redis"].get("image", "")).startswith("redis:7")


@pytest.mark.parametrize("name", ["postgres", "redis", "web"])
def test_service_has_healthcheck(services, name):
    healthcheck = services[name].get("healthcheck")
    assert isinstance(healthcheck, dict), f"{name} has no healthcheck"
    assert not healthcheck.get("disable"), f"{name} healthcheck is disabled"
    test = healthcheck.get("test")
    assert test, f"{name} healthcheck has no test"
    if isinstance(test, list):
        assert test[0] in {"CMD", "CMD-SHELL"}, f"{name} healthcheck test must start with CMD or CMD-SHELL"
        assert len(test) > 1, f"{name} healthcheck test has no command"


def test_healthcheck_commands_probe_the_right_thing(services):
    assert "pg_isready" in _as_text(services["postgres"]["healthcheck"]["test"])
    redis_check = _as_text(services["redis"]["healthcheck"]["test"])
    assert "redis-cli" in redis_check and "ping" in redis_check
    web_check = _as_text(services["web"]["healthcheck"]["test"])
    assert "urllib" in web_check, "web healthcheck should use python's urllib (no curl in the slim image)"
    assert re.search(r"http://(127\.0\.0\.1|localhost):8000/healthz", web_check), web_check


def test_redis_uses_append_only_file(services):
    assert re.search(r"--appendonly\s+yes", _as_text(services["redis"].get("command")))


def test_app_services_share_one_image(services):
    images = {name: services[name].get("image") for name in IMAGE_SERVICES if name in services}
    assert set(APP_SERVICES) <= set(images), "web, worker and beat must all be defined"
    assert all(images.values()), f"every app service needs an explicit image name: {images}"
    assert len(set(images.values())) == 1, f"app services use different images: {images}"


def test_image_is_built_at_most_once(services):
    builders = [name for name in IMAGE_SERVICES if name in services and "build" in services[name]]
    assert len(builders) <= 1, f"only one service should build the shared image, got {builders}"
    assert builders, "one of web/worker/beat/migrate must build the image from the Dockerfile"
    build = services[builders[0]]["build"]
    context = build if isinstance(build, str) else build.get("context", ".")
    assert Path(ROOT, context).resolve() == ROOT, f"build context should be the project root, got {context!r}"


def test_no_other_service_builds_the_app_image(services):
    image = services["web"].get("image")
    builders = [name for name, svc in services.items() if name not in IMAGE_SERVICES and "build" in svc]
    same_image = [name for name in builders if services[name].get("image") == image]
    assert not same_image, f"services outside the app set also build {image}: {same_image}"


@pytest.mark.parametrize("name", APP_SERVICES)
@pytest.mark.parametrize("dependency", BACKING_SERVICES)
def test_app_service_waits_for_healthy_backing_services(services, name, dependency):
    deps = _depends_on(services[name])
    assert dependency in deps, f"{name} does not depend on {dependency}"
    assert deps[dependency] == "service_healthy", (
        f"{name} depends on {dependency} with condition {deps[dependency]!r}, expected service_healthy"
    )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_waits_for_migrations(services, name):
    assert "migrate" in services, "a one-shot migrate service runs migrations and loads reference data"
    assert _depends_on(services[name]).get("migrate") == "service_completed_successfully"


def test_migrate_service_is_one_shot(services):
    assert "migrate" in services, "a one-shot migrate service runs migrations and loads reference data"
    migrate = services["migrate"]
    assert re.search(r"manage\.py\s+migrate\b", _as_text(migrate.get("command")))
    assert re.search(r"manage\.py\s+load_reference_data\b", _as_text(migrate.get("command")))
    assert str(migrate.get("restart", "no")) in {"no", "on-failure"} or migrate.get("restart") is False
    deps = _depends_on(migrate)
    assert deps.get("postgres") == "service_healthy"


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
def test_app_services_share_connection_settings(services, name):
    assert name in services, f"no {name} service"
    service = services[name]
    env_file = service.get("env_file")
    env_files = [env_file] if isinstance(env_file, str | dict) else list(env_file or [])
    paths = [item if isinstance(item, str) else item.get("path") for item in env_files]
    assert ".env" in paths, f"{name} must read env_file .env"

    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    assert environment.get("DATABASE_URL") == "postgres://portal:portal@postgres:5432/portal"
    assert environment.get("REDIS_URL") == "redis://redis:6379/0"


def test_postgres_credentials_match_database_url(services):
    env = services["postgres"].get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    assert env.get("POSTGRES_USER") == "portal"
    assert env.get("POSTGRES_PASSWORD") == "portal"
    assert env.get("POSTGRES_DB") == "portal"


def test_worker_and_beat_commands(services):
    worker = _as_text(services["worker"].get("command"))
    assert re.search(r"celery\s+-A\s+portal\s+worker\b", worker), worker
    assert re.search(r"--concurrency[ =]2\b", worker), worker
    beat = _as_text(services["beat"].get("command"))
    assert re.search(r"celery\s+-A\s+portal\s+beat\b", beat), beat


def test_beat_schedule_is_on_a_named_volume(compose, services):
    beat = _as_text(services["beat"].get("command"))
    match = re.search(r"(?:--schedule[ =]|-s\s+)(\S+)", beat)
    assert match, "beat should set --schedule so the schedule file lives on a volume"
    schedule_dir = str(Path(match.group(1)).parent)
    source = _mount_source_for(services["beat"], schedule_dir)
    assert source, f"nothing is mounted at {schedule_dir} in beat"
    assert source in (compose.get("volumes") or {}), f"beat schedule volume {source!r} is not declared"


def test_web_is_published_on_port_8000(services):
    ports = [
        str(p.get("target")) if isinstance(p, dict) else str(p) for p in services["web"].get("ports") or []
    ]
    assert any(p == "8000" or p.endswith(":8000") for p in ports), f"web does not publish port 8000: {ports}"


def test_named_volumes_declared(compose, services):
    declared = set((compose.get("volumes") or {}).keys())
    pg_source = _mount_source_for(services["postgres"], "/var/lib/postgresql/data")
    redis_source = _mount_source_for(services["redis"], "/data")
    assert pg_source in declared, f"postgres data must be a declared named volume, got {pg_source!r}"
    assert redis_source in declared, f"redis data must be a declared named volume, got {redis_source!r}"
    for name in ("web", "worker"):
        media = _mount_source_for(services[name], "/app/media")
        assert media in declared, f"{name} must mount a declared named volume at /app/media, got {media!r}"
    assert _mount_source_for(services["web"], "/app/media") == _mount_source_for(
        services["worker"], "/app/media"
    ), "web and worker must share the same media volume"


def test_every_named_volume_used_is_declared(compose, services):
    declared = set((compose.get("volumes") or {}).keys())
    used = {source for svc in services.values() for source in _named_volume_sources(svc)}
    assert used <= declared, f"volumes used but not declared: {sorted(used - declared)}"


# --------------------------------------------------------------------------- Dockerfile


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    for pattern in (".venv", ".git", ".env", "media", "*.sqlite3", "node_modules", "bench/results"):
        assert pattern in ignored, f".dockerignore should exclude {pattern}"


def test_dockerfile_exists():
    assert DOCKERFILE.is_file(), "Dockerfile is missing"


def test_dockerfile_base_image():
    froms = [args for keyword, args in _dockerfile_instructions() if keyword == "FROM"]
    assert froms, "Dockerfile has no FROM"
    assert froms[-1].split()[0].startswith("python:3.11-slim"), froms[-1]


def test_dockerfile_runs_as_non_root_user():
    users = [args for keyword, args in _dockerfile_instructions() if keyword == "USER"]
    assert users, "Dockerfile never switches USER, so the container would run as root"
    final_user = users[-1].split(":")[0]
    assert final_user not in {"root", "0"}, f"final USER is {users[-1]!r}"


def test_dockerfile_installs_project_and_collects_static():
    runs = [args for keyword, args in _dockerfile_instructions() if keyword == "RUN"]
    assert any(re.search(r"pip\s+install\b.*\s\.(\s|$)", run) for run in runs), "no `pip install .`"
    collect = [run for run in runs if "collectstatic" in run]
    assert collect, "Dockerfile does not run collectstatic"
    assert "--noinput" in collect[0]
    # Dummy secrets are passed to that RUN line only, never baked in with ENV.
    envs = " ".join(args for keyword, args in _dockerfile_instructions() if keyword in {"ENV", "ARG"})
    for secret in ("SECRET_KEY", "ID_ENCRYPTION_KEYS", "ID_HASH_KEY"):
        assert secret in collect[0], f"collectstatic RUN line should set a dummy {secret}"
        assert secret not in envs, f"{secret} must not be set with ENV/ARG (it would persist in the image)"


def test_dockerfile_starts_gunicorn_with_portal_wsgi():
    instructions = _dockerfile_instructions()
    entrypoint = [args for keyword, args in instructions if keyword == "ENTRYPOINT"]
    cmd = [args for keyword, args in instructions if keyword == "CMD"]
    assert cmd or entrypoint, "Dockerfile has neither CMD nor ENTRYPOINT"
    argv = []
    if entrypoint:
        argv += _exec_or_shell_args(entrypoint[-1])
    if cmd:
        argv += _exec_or_shell_args(cmd[-1])
    assert "gunicorn" in Path(argv[0]).name or argv[:3] == ["python", "-m", "gunicorn"], argv
    assert "portal.wsgi:application" in argv or "portal.wsgi" in argv, argv
    command = " ".join(argv)
    assert re.search(r"(--bind[ =]|-b\s+)0\.0\.0\.0:8000\b", command), command
    assert re.search(r"--workers[ =]3\b", command), command
    assert re.search(r"--threads[ =]4\b", command), command
    assert re.search(r"--timeout[ =]30\b", command), command


def test_web_does_not_override_gunicorn_with_something_else(services):
    command = services["web"].get("command")
    if command is None:
        return  # uses the Dockerfile CMD checked above
    assert "gunicorn" in _as_text(command) and "portal.wsgi" in _as_text(command)
