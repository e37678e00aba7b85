# syntax=docker/dockerfile:1
#
# Production image for the portal. One image runs every role; docker-compose.yml
# picks the role through `command:` (gunicorn web, one-shot migrate, celery
# worker, celery beat).
#
#   docker build -t gzkj-portal:latest .
#   docker run --env-file .env -p 8000:8000 gzkj-portal:latest
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=portal.settings

WORKDIR /app

# Unprivileged runtime user. The source tree stays root-owned (read-only for
# the app); only the upload and celery-beat state directories belong to it.
RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin portal

# Dependencies first so this layer is cached until pyproject.toml changes.
# pyproject.toml declares `packages = []`: `pip install .` installs only the
# dependencies (psycopg2-binary, Pillow, cryptography ... all ship manylinux
# wheels, so no compiler or libpq-dev is needed). The README is copied because
# pyproject names it as the readme; the glob keeps the build working without it.
COPY pyproject.toml README.md* ./
RUN pip install --no-compile .

COPY . .

# Collect static files at build time so whitenoise serves the hashed, compressed
# copies. Settings refuse to start with DEBUG off unless the secrets are set, so
# dummy values are given to this RUN only; they are not baked into the image's
# environment and must never be used at runtime (real values come from .env).
RUN DEBUG=0 \
    SECRET_KEY=build-only-dummy-secret-key-not-used-at-runtime-0000000000 \
    ID_ENCRYPTION_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    ID_HASH_KEY=build-only-dummy-hash-key-not-used-at-runtime-00000000000 \
    python manage.py collectstatic --noinput

# Writable locations: uploaded files (mounted as the `media` volume in compose,
# which inherits this ownership when first created) and the celery beat schedule.
RUN mkdir -p /app/media /app/celerybeat \
    && chown portal:portal /app/media /app/celerybeat

USER portal:portal

EXPOSE 8000

CMD ["gunicorn", "portal.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--workers", "3", \
     "--threads", "4", \
     "--timeout", "30", \
     "--access-logfile", "-", \
     "--error-logfile", "-"]
