"""Housekeeping: expired SMS codes and throttle windows, abandoned wizard uploads, expired
sessions and their records, audit rows past retention (never younger than 185 days)."""

from __future__ import annotations

import datetime as dt
from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import SmsCode, Throttle
from accounts.services import user_sessions_prune
from collection.services import orphan_uploads_delete
from portal.models import AUDIT_MIN_RETENTION_DAYS, AuditEntry, retention_days

# SMS codes live minutes, but the daily per-phone limit counts the last day's codes.
SMS_KEEP = dt.timedelta(days=2)


class Command(BaseCommand):
    help = ("Delete expired SMS codes and throttle windows, abandoned wizard uploads, expired sessions, and audit "
            f"rows older than AUDIT_RETENTION_DAYS (at least {AUDIT_MIN_RETENTION_DAYS}). Example: cleanup "
            "--uploads-older-than-hours 24")

    def add_arguments(self, parser):
        parser.add_argument("--uploads-older-than-hours", type=int, default=1,
                            help="only delete unreferenced uploads older than this (default 1)")
        parser.add_argument("--skip", action="append", default=[],
                            choices=["sms", "uploads", "sessions", "audit"], help="leave one kind alone (repeatable)")

    def handle(self, *args, uploads_older_than_hours=1, skip=(), **options):
        if uploads_older_than_hours < 1:
            raise CommandError("--uploads-older-than-hours must be at least 1 (uploads in flight are kept)")
        if int(settings.AUDIT_RETENTION_DAYS) < AUDIT_MIN_RETENTION_DAYS:
            self.stderr.write(f"AUDIT_RETENTION_DAYS={settings.AUDIT_RETENTION_DAYS} is below the minimum: "
                              f"keeping {AUDIT_MIN_RETENTION_DAYS} days")
        steps = [("sms", self._sms), ("uploads", lambda: self._uploads(uploads_older_than_hours)),
                 ("sessions", self._sessions), ("audit", self._audit)]
        todo = [(name, step) for name, step in steps if name not in skip]
        summary = []
        for n, (name, step) in enumerate(todo, start=1):
            self.stdout.write(f"[{n}/{len(todo)}] {name} ...")
            summary.append(step())
        self.stdout.write(self.style.SUCCESS("cleanup: " + ("; ".join(summary) or "nothing to do")))

    def _sms(self) -> str:
        cutoff = timezone.now() - SMS_KEEP
        codes, _ = SmsCode.objects.filter(created_at__lt=cutoff, expires_at__lt=timezone.now()).delete()
        windows, _ = Throttle.objects.filter(window_start__lt=cutoff).delete()
        return f"{codes} expired SMS codes, {windows} throttle windows"

    def _uploads(self, hours: int) -> str:
        return f"{orphan_uploads_delete(older_than=dt.timedelta(hours=hours))} abandoned uploads"

    def _sessions(self) -> str:
        store = import_module(settings.SESSION_ENGINE).SessionStore
        try:
            store.clear_expired()
        except NotImplementedError:
            pass  # a store that expires on its own (cache)
        return f"expired sessions cleared, {user_sessions_prune()} session records"

    def _audit(self) -> str:
        return f"{AuditEntry.objects.retention_purge()} audit rows older than {retention_days()} days"
