"""Credit records, yearly totals and the institutions' credit batches.

Every credit goes through `credit_record_add`, which updates the person's
CreditYearTotal in the same transaction (an UPDATE with F(), so concurrent
batches stay exact).

A batch posted by an institution (or imported with `import_credits`) is first a
CreditBatch row, written with every ID number already replaced by its lookup
hash and masked form; `education.tasks.credit_batch_process` is queued on
commit. Processing decides the records a chunk at a time; each chunk's credits,
yearly totals, the outcomes of records not accepted (CreditBatchItem) and the
batch's `processed` mark commit together, so a run interrupted half-way is
finished by the next one (the periodic sweep re-queues batches left
待处理/处理中) without counting anything twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.identity import IdType, id_lookup_hash, mask_id_number, normalize_id_number, validate_id_number
from accounts.models import User
from collection.models import Archive, ArchiveStatus
from portal.bulk import bulk_insert
from portal.errors import PortalError
from portal.tasks import enqueue_on_commit

from .models import (
    MAX_YEAR,
    MIN_YEAR,
    CreditBatch,
    CreditBatchItem,
    CreditBatchResult,
    CreditBatchStatus,
    CreditCategory,
    CreditRecord,
    CreditSource,
    CreditYearTotal,
    Enrolment,
    Institution,
    InstitutionFiling,
)

logger = logging.getLogger(__name__)

RECORD_FIELDS = ("record_id", "id_type", "id_number", "name", "year", "category", "credits", "course",
                 "completed_at")
_STRING_FIELDS = ("record_id", "id_type", "id_number", "name", "category", "course", "completed_at")
CATEGORY_BY_LABEL = {"公需科目": CreditCategory.PUBLIC, "专业科目": CreditCategory.PROFESSIONAL}
MAX_RECORD_CREDITS = Decimal("999.9")
ID_TYPES = frozenset(IdType.values)


class CreditError(PortalError):
    """A credit rule refused the operation."""


class BatchInvalid(CreditError):
    """The batch as a whole is malformed (wrong types, too many records): nothing is stored."""


class CreditDuplicate(CreditError):
    """A record with this source / institution and record_id already exists."""


# --- reasons a record is refused -------------------------------------------------------

REASONS = {
    "invalid_value": gettext_lazy("字段取值无效"),
    "conflict": gettext_lazy("相同 record_id 已入账，但内容不同"),
    "institution_not_filed": gettext_lazy("本机构未在该年度备案"),
    "person_unknown": gettext_lazy("查无此人或其尚未完成信息采集"),
    "name_mismatch": gettext_lazy("姓名与证件号码不符"),
    "not_enrolled": gettext_lazy("该人员未在该年度报名本机构"),
}


# --- parsing: the batch as received ------------------------------------------------------


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _sanitised(index: int, record) -> dict:
    if not isinstance(record, dict):
        raise BatchInvalid(_("records[%(i)d] 须为对象。") % {"i": index}, code="wrong_type")
    missing = [f for f in RECORD_FIELDS if f not in record]
    if missing:
        raise BatchInvalid(_("records[%(i)d] 缺少字段：%(f)s。") % {"i": index, "f": ", ".join(missing)},
                           code="missing_field")
    for field in _STRING_FIELDS:
        if not isinstance(record[field], str):
            raise BatchInvalid(_("records[%(i)d].%(f)s 须为字符串。") % {"i": index, "f": field}, code="wrong_type")
    if not _is_int(record["year"]):
        raise BatchInvalid(_("records[%(i)d].year 须为整数。") % {"i": index}, code="wrong_type")
    credits = record["credits"]
    if not (_is_int(credits) or isinstance(credits, Decimal | float)):
        raise BatchInvalid(_("records[%(i)d].credits 须为数字。") % {"i": index}, code="wrong_type")
    # The plain ID number goes no further than this function: only its hash and masked form are kept.
    number = normalize_id_number(record["id_number"])
    try:
        validate_id_number(record["id_type"], number)
        id_valid = True
    except ValidationError:
        id_valid = False
    return {
        "record_id": record["record_id"].strip(),
        "id_type": record["id_type"],
        "id_hash": id_lookup_hash(number) if number else "",
        "id_masked": mask_id_number(number) if id_valid else "",
        "id_valid": id_valid,
        "name": record["name"].strip(),
        "year": record["year"],
        "category": record["category"].strip(),
        "credits": str(credits),
        "course": record["course"].strip(),
        "completed_at": record["completed_at"].strip(),
    }


def credit_records_parse(records) -> list[dict]:
    """Check the batch's shape and types; return the records with ID numbers replaced
    by hash + mask. Raises BatchInvalid (the whole batch is refused)."""
    if not isinstance(records, list):
        raise BatchInvalid(_("records 须为数组。"), code="wrong_type")
    if not records:
        raise BatchInvalid(_("records 不能为空。"), code="empty_batch")
    limit = settings.CE_CREDIT_BATCH_MAX_RECORDS
    if len(records) > limit:
        raise BatchInvalid(_("一个批次最多 %(n)d 条记录。") % {"n": limit}, code="too_many_records")
    return [_sanitised(i, r) for i, r in enumerate(records)]


@transaction.atomic
def credit_batch_receive(*, institution: Institution, records, origin: str = "api") -> CreditBatch:
    """Store a batch durably (ID numbers hashed and masked) and queue its processing on commit."""
    from .tasks import credit_batch_process

    clean = credit_records_parse(records)
    batch = CreditBatch.objects.create(institution=institution, records=clean, record_count=len(clean),
                                       origin=origin)
    enqueue_on_commit(credit_batch_process, batch.pk)
    logger.info("credit batch %s received from %s: %s records", batch.pk, institution.code, len(clean))
    return batch


# --- one record --------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordValues:
    record_id: str
    id_type: str
    id_hash: str
    name: str
    year: int
    category: str
    credits: Decimal
    course: str
    completed_at: dt.date


def _values(rec: dict) -> RecordValues | str:
    """The record's typed values, or the message saying which value is invalid."""
    if not rec["record_id"] or len(rec["record_id"]) > 64:
        return _("record_id 须为 1–64 个字符")
    if rec["id_type"] not in ID_TYPES or not rec["id_valid"]:
        return _("证件类型或证件号码无效")
    if not rec["name"] or len(rec["name"]) > 50:
        return _("name 须为 1–50 个字符")
    if not MIN_YEAR <= rec["year"] <= MAX_YEAR:
        return _("year 超出范围")
    if rec["category"] not in CATEGORY_BY_LABEL:
        return _("category 须为“公需科目”或“专业科目”")
    try:
        credits = Decimal(rec["credits"])
    except InvalidOperation:
        return _("credits 须为数字")
    if not credits.is_finite() or credits <= 0 or credits > MAX_RECORD_CREDITS or credits != credits.quantize(
            Decimal("0.1")):
        return _("credits 须大于 0、不超过 999.9，且最多 1 位小数")
    if not rec["course"] or len(rec["course"]) > 200:
        return _("course 须为 1–200 个字符")
    try:
        completed = dt.date.fromisoformat(rec["completed_at"][:10])
    except ValueError:
        return _("completed_at 须为日期（YYYY-MM-DD）")
    if completed.year != rec["year"]:
        return _("completed_at 须在 year 年度内")
    return RecordValues(record_id=rec["record_id"], id_type=rec["id_type"], id_hash=rec["id_hash"],
                        name=rec["name"], year=rec["year"], category=CATEGORY_BY_LABEL[rec["category"]],
                        credits=credits.quantize(Decimal("0.1")), course=rec["course"], completed_at=completed)


@dataclass(frozen=True)
class _Pending:
    """A record's values and its person's ID hash: one stored already, or one accepted
    earlier in the same chunk and not yet inserted."""

    id_hash: str
    values: RecordValues


CREDIT_RECORD_COLUMNS = ("user", "source", "institution", "record_id", "year", "category", "credits", "course",
                         "completed_at", "batch", "created_at")


def _same(existing: CreditRecord | _Pending, values: RecordValues) -> bool:
    """Same person and content: a duplicate; otherwise the same record_id is a conflict."""
    stored = existing.values if isinstance(existing, _Pending) else existing
    id_hash = existing.id_hash if isinstance(existing, _Pending) else existing.user.id_hash
    return (id_hash == values.id_hash and stored.year == values.year
            and stored.category == values.category and stored.credits == values.credits
            and stored.course == values.course and stored.completed_at == values.completed_at)


def _existing_outcome(existing: CreditRecord, values: RecordValues) -> tuple[str, str]:
    if _same(existing, values):
        return CreditBatchResult.DUPLICATE, ""
    return CreditBatchResult.REJECTED, "conflict"


def _record_outcome(batch: CreditBatch, rec: dict) -> tuple[str, str, str]:
    """Apply one record of a batch: (result, reason code, message). Runs in the caller's transaction."""
    values = _values(rec)
    if isinstance(values, str):
        return CreditBatchResult.REJECTED, "invalid_value", values
    institution = batch.institution
    existing = CreditRecord.objects.select_related("user").filter(
        institution=institution, record_id=values.record_id).first()
    if existing is not None:
        return (*_existing_outcome(existing, values), "")
    if not InstitutionFiling.objects.filter(institution=institution, year=values.year).exists():
        return CreditBatchResult.REJECTED, "institution_not_filed", ""
    user = User.objects.filter(id_hash=values.id_hash, id_type=values.id_type).first() if values.id_hash else None
    if user is None or not Archive.objects.filter(user=user, status=ArchiveStatus.COLLECTED).exists():
        return CreditBatchResult.REJECTED, "person_unknown", ""
    if user.name != values.name:
        return CreditBatchResult.REJECTED, "name_mismatch", ""
    if not Enrolment.objects.filter(user=user, institution=institution, year=values.year).exists():
        return CreditBatchResult.REJECTED, "not_enrolled", ""
    try:
        credit_record_add(user=user, source=CreditSource.INSTITUTION, institution=institution,
                          record_id=values.record_id, year=values.year, category=values.category,
                          credits=values.credits, course=values.course, completed_at=values.completed_at,
                          batch=batch)
    except CreditDuplicate:
        # Another batch stored the same record_id between our look and our insert.
        existing = CreditRecord.objects.select_related("user").get(institution=institution,
                                                                    record_id=values.record_id)
        return (*_existing_outcome(existing, values), "")
    return CreditBatchResult.ACCEPTED, "", ""


# --- credits and yearly totals --------------------------------------------------------------


def _total_add(*, user_id: int, year: int, category: str, credits: Decimal) -> None:
    field = "public_credits" if category == CreditCategory.PUBLIC else "professional_credits"
    change = {field: F(field) + credits, "total": F("total") + credits, "updated_at": timezone.now()}
    if CreditYearTotal.objects.filter(user_id=user_id, year=year).update(**change):
        return
    try:
        with transaction.atomic():
            CreditYearTotal.objects.create(user_id=user_id, year=year, total=credits, **{field: credits})
    except IntegrityError:  # created concurrently: add to it
        CreditYearTotal.objects.filter(user_id=user_id, year=year).update(**change)


@transaction.atomic
def credit_record_add(
    *,
    user: User,
    source: str,
    record_id: str,
    year: int,
    category: str,
    credits: Decimal,
    course: str,
    completed_at: dt.date,
    institution: Institution | None = None,
    batch: CreditBatch | None = None,
) -> CreditRecord:
    """Store one credit and add it to the person's yearly total, atomically."""
    credits = Decimal(credits).quantize(Decimal("0.1"))
    try:
        with transaction.atomic():
            record = CreditRecord.objects.create(
                user=user, source=source, institution=institution, record_id=record_id, year=year,
                category=category, credits=credits, course=course, completed_at=completed_at, batch=batch,
            )
    except IntegrityError:
        raise CreditDuplicate(_("该记录已存在。"), code="duplicate") from None
    _total_add(user_id=user.pk, year=year, category=category, credits=credits)
    return record


# --- processing a batch ----------------------------------------------------------------------


def credit_batch_process(*, batch_id: int) -> bool:
    """Process the records of a batch not processed yet; True if this call finished it.

    Records are decided in index order, a chunk at a time: one transaction under
    the batch row's lock reads `processed`, looks up everything the chunk needs in
    a few queries, then writes its credits, yearly totals, the outcomes of records
    not accepted, and the batch's new `processed`, counts and status together, so
    repeated or concurrent runs count nothing twice. A chunk that meets a
    concurrent insert of the same record_id is redone record by record.
    """
    batch = CreditBatch.objects.select_related("institution").filter(pk=batch_id).first()
    if batch is None or batch.status == CreditBatchStatus.DONE:
        return False
    records = batch.records
    chunk_size = settings.CE_CREDIT_CHUNK_RECORDS
    slow_until = 0  # records before this index go one per transaction (their chunk raced)
    while True:
        with transaction.atomic():
            _relaxed_commit()
            start = _chunk_lock(batch_id)
            if start is None:  # finished by another run
                return False
            if start >= len(records):  # everything processed, yet not marked done
                _chunk_done(batch, start, [])
                break
            stop = min(start + chunk_size, len(records))
            if start < slow_until:  # the slow, exact path: one record
                _record_process(batch, start, records[start])
                if start + 1 >= len(records):
                    break
                continue
            try:
                with transaction.atomic():
                    _chunk_process(batch, start, records[start:stop])
            except IntegrityError:  # a concurrent insert of one of its record_ids: redo it one by one
                slow_until = stop
                continue
            if stop >= len(records):
                break
    logger.info("credit batch %s done", batch_id)
    return True


def _relaxed_commit() -> None:
    """PostgreSQL: this transaction's commit does not wait for its WAL flush.

    Safe here and only here: the batch itself was stored with a normal commit
    before it was accepted, and a chunk's credits, totals, outcomes and the batch's
    `processed` commit together, so a crash can lose only whole chunks, which the
    sweep then processes again (nothing lost, nothing counted twice)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _chunk_lock(batch_id: int) -> int | None:
    """Lock the batch row; the index of its first unprocessed record, or None if it is done."""
    state = CreditBatch.objects.select_for_update().filter(pk=batch_id).values_list("processed", "status").first()
    if state is None or state[1] == CreditBatchStatus.DONE:
        return None
    return state[0]


def _chunk_done(batch: CreditBatch, stop: int, outcomes: list[str]) -> None:
    """Move the batch's `processed` to `stop`, add the chunk's outcomes to its counts,
    and mark it 已完成 when that was its last record."""
    now = timezone.now()
    done = stop >= batch.record_count
    CreditBatch.objects.filter(pk=batch.pk).update(
        processed=stop, updated_at=now,
        accepted_count=F("accepted_count") + outcomes.count(CreditBatchResult.ACCEPTED),
        duplicate_count=F("duplicate_count") + outcomes.count(CreditBatchResult.DUPLICATE),
        rejected_count=F("rejected_count") + outcomes.count(CreditBatchResult.REJECTED),
        status=CreditBatchStatus.DONE if done else CreditBatchStatus.PROCESSING,
        **({"finished_at": now} if done else {}),
    )


def _record_process(batch: CreditBatch, index: int, rec: dict) -> None:
    """One record, the exact way (caller holds the batch lock inside a transaction)."""
    result, reason, message = _record_outcome(batch, rec)
    if result != CreditBatchResult.ACCEPTED:
        CreditBatchItem.objects.create(batch_id=batch.pk, index=index, record_id=rec["record_id"][:64],
                                       result=result, reason=reason, message=message[:200])
    _chunk_done(batch, index + 1, [result])


def _chunk_process(batch: CreditBatch, start: int, chunk: list[dict]) -> None:
    """Decide and write the records [start, start + len(chunk)) (caller holds the batch
    lock inside a transaction). The same rules, in the same order, as `_record_outcome`."""
    institution = batch.institution
    values = [_values(rec) for rec in chunk]
    typed = [v for v in values if not isinstance(v, str)]
    existing = _existing_records(institution.pk, {v.record_id for v in typed})
    filed_years = set(InstitutionFiling.objects.filter(institution=institution).values_list("year", flat=True))
    # (id_hash, id_type) → (user id, name), and who is collected and enrolled: one query, plain tuples.
    users, collected, enrolled = _people(institution.pk, {v.id_hash for v in typed if v.id_hash})
    now, source = timezone.now(), CreditSource.INSTITUTION.value
    new_records: list[tuple] = []
    items: list[tuple] = []
    outcomes: list[str] = []
    totals: dict[tuple[int, int, str], Decimal] = {}
    for index, (rec, v) in enumerate(zip(chunk, values, strict=True), start=start):
        result, reason, message = CreditBatchResult.ACCEPTED, "", ""
        if isinstance(v, str):
            result, reason, message = CreditBatchResult.REJECTED, "invalid_value", v
        elif v.record_id in existing:
            result, reason = _existing_outcome(existing[v.record_id], v)
        elif v.year not in filed_years:
            result, reason = CreditBatchResult.REJECTED, "institution_not_filed"
        else:
            user_id, name = users.get((v.id_hash, v.id_type), (None, None)) if v.id_hash else (None, None)
            if user_id is None or user_id not in collected:
                result, reason = CreditBatchResult.REJECTED, "person_unknown"
            elif name != v.name:
                result, reason = CreditBatchResult.REJECTED, "name_mismatch"
            elif (user_id, v.year) not in enrolled:
                result, reason = CreditBatchResult.REJECTED, "not_enrolled"
            else:
                new_records.append((user_id, source, institution.pk, v.record_id, v.year,
                                    v.category, v.credits, v.course, v.completed_at, batch.pk, now))
                # A repeat later in this chunk is a duplicate or a conflict of this one.
                existing[v.record_id] = _Pending(id_hash=v.id_hash, values=v)
                key = (user_id, v.year, v.category)
                totals[key] = totals.get(key, Decimal("0")) + v.credits
        outcomes.append(result)
        if result != CreditBatchResult.ACCEPTED:
            items.append((batch.pk, index, rec["record_id"][:64], str(result), reason, message[:200]))
    # IntegrityError (a concurrent insert of the same record_id) → the caller redoes the chunk one by one.
    bulk_insert(CreditRecord, CREDIT_RECORD_COLUMNS, new_records)
    _totals_add_many(totals)
    bulk_insert(CreditBatchItem, ("batch", "index", "record_id", "result", "reason", "message"), items)
    _chunk_done(batch, start + len(chunk), outcomes)


def _existing_records(institution_id: int, record_ids: set[str]) -> dict[str, _Pending]:
    """The institution's credits already stored under these record_ids (one query, no model instances)."""
    if not record_ids:
        return {}
    q = connection.ops.quote_name
    record_t, user_t = q(CreditRecord._meta.db_table), q(User._meta.db_table)
    placeholders = ", ".join(["%s"] * len(record_ids))
    # Only the models' own table names and placeholders are formatted in; values are parameters.
    sql = f"""
        SELECT r.record_id, u.id_type, u.id_hash, u.name, r.year, r.category, r.credits, r.course, r.completed_at
        FROM {record_t} r JOIN {user_t} u ON u.id = r.user_id
        WHERE r.institution_id = %s AND r.record_id IN ({placeholders})
    """  # noqa: S608
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [institution_id, *record_ids])
        for record_id, id_type, id_hash, name, year, category, credits, course, completed_at in cursor.fetchall():
            if isinstance(completed_at, str):  # SQLite
                completed_at = dt.date.fromisoformat(completed_at)
            values = RecordValues(record_id=record_id, id_type=id_type, id_hash=id_hash, name=name, year=year,
                                  category=category, credits=Decimal(str(credits)).quantize(Decimal("0.1")),
                                  course=course, completed_at=completed_at)
            found[record_id] = _Pending(id_hash=id_hash, values=values)
    return found


def _people(institution_id: int, id_hashes: set[str]):
    """For the ID hashes of a chunk: {(id_hash, id_type): (user id, name)}, the user ids
    whose archive is 已采集, and the (user id, year) pairs enrolled with the institution,
    in one query (the chunk's hot path: no ORM lookups built per chunk)."""
    users: dict[tuple[str, str], tuple[int, str]] = {}
    collected: set[int] = set()
    enrolled: set[tuple[int, int]] = set()
    if not id_hashes:
        return users, collected, enrolled
    q = connection.ops.quote_name
    user_t, archive_t, enrolment_t = (q(m._meta.db_table) for m in (User, Archive, Enrolment))
    placeholders = ", ".join(["%s"] * len(id_hashes))
    years = "STRING_AGG(CAST(e.year AS TEXT), ',')" if connection.vendor == "postgresql" else "GROUP_CONCAT(e.year)"
    # Only the models' own table names and placeholders are formatted in; values are parameters.
    sql = f"""
        SELECT u.id, u.id_hash, u.id_type, u.name,
               EXISTS (SELECT 1 FROM {archive_t} a WHERE a.user_id = u.id AND a.status = %s),
               (SELECT {years} FROM {enrolment_t} e WHERE e.user_id = u.id AND e.institution_id = %s)
        FROM {user_t} u WHERE u.id_hash IN ({placeholders})
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [ArchiveStatus.COLLECTED.value, institution_id, *id_hashes])
        for pk, id_hash, id_type, name, is_collected, enrolled_years in cursor.fetchall():
            users[(id_hash, id_type)] = (pk, name)
            if is_collected:
                collected.add(pk)
            if enrolled_years:
                enrolled.update((pk, int(y)) for y in str(enrolled_years).split(","))
    return users, collected, enrolled


def _totals_add_many(totals: dict[tuple[int, int, str], Decimal]) -> None:
    """Add many credits to the yearly totals in one statement (an upsert that adds,
    on PostgreSQL and SQLite alike), in the caller's transaction."""
    rows: dict[tuple[int, int], list[Decimal]] = {}
    for (user_id, year, category), credits in totals.items():
        row = rows.setdefault((user_id, year), [Decimal("0"), Decimal("0")])
        row[0 if category == CreditCategory.PUBLIC else 1] += credits
    if not rows:
        return
    table = connection.ops.quote_name(CreditYearTotal._meta.db_table)
    now = timezone.now()
    params: list = []
    for (user_id, year), (public, professional) in sorted(rows.items()):  # sorted: a fixed lock order
        params += [user_id, year, public, professional, public + professional, now]
    values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    # Only the model's own table name and placeholders are formatted in; values go as parameters.
    sql = (
        f"INSERT INTO {table} (user_id, year, public_credits, professional_credits, total, updated_at) "  # noqa: S608
        f"VALUES {values} ON CONFLICT (user_id, year) DO UPDATE SET "
        f"public_credits = {table}.public_credits + excluded.public_credits, "
        f"professional_credits = {table}.professional_credits + excluded.professional_credits, "
        f"total = {table}.total + excluded.total, updated_at = excluded.updated_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_decimalfield_value(p, 8, 1) if isinstance(p, Decimal) else p
                             for p in params])


def credit_batch_sweep(*, older_than_seconds: int = 60) -> int:
    """Queue every batch left 待处理/处理中 without progress for a while; return how many."""
    from .tasks import credit_batch_process as task

    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        CreditBatch.objects.filter(status__in=[CreditBatchStatus.PENDING, CreditBatchStatus.PROCESSING],
                                   updated_at__lte=cutoff)
        .order_by("created_at").values_list("pk", flat=True)[:500]
    )
    queued = 0
    for pk in ids:
        try:
            task.apply_async(args=(pk,))
            queued += 1
        except Exception:
            logger.warning("sweep could not queue credit batch %s; broker still down?", pk, exc_info=True)
            break
    return queued


def credit_batch_report(*, batch: CreditBatch) -> dict:
    """The status answer: counts and, per record, its outcome. A processed record
    without an item was accepted; records from `processed` on are pending."""
    batch.refresh_from_db(fields=["status", "processed", "accepted_count", "duplicate_count", "rejected_count",
                                  "finished_at", "updated_at"])  # as it is now, not as the caller loaded it
    items = {i.index: i for i in CreditBatchItem.objects.filter(batch=batch)}
    records = []
    for index, rec in enumerate(batch.records):
        if index >= batch.processed:
            records.append({"index": index, "record_id": rec["record_id"], "result": "pending"})
            continue
        item = items.get(index)
        if item is None:
            records.append({"index": index, "record_id": rec["record_id"], "result": CreditBatchResult.ACCEPTED.value})
            continue
        entry = {"index": index, "record_id": rec["record_id"], "result": item.result}
        if item.reason:
            entry["reason"] = item.reason
            entry["message"] = str(REASONS.get(item.reason, "")) + (f"：{item.message}" if item.message else "")
        records.append(entry)
    return {"batch_id": batch.pk, "status": batch.status, "status_label": str(batch.get_status_display()),
            "received_at": batch.created_at.isoformat(),
            "finished_at": batch.finished_at.isoformat() if batch.finished_at else None,
            "counts": batch_counts(batch), "records": records}


# --- checking the yearly totals ---------------------------------------------------------------


@dataclass(frozen=True)
class TotalDifference:
    user_id: int
    year: int
    stored: tuple[Decimal, Decimal, Decimal] | None
    expected: tuple[Decimal, Decimal, Decimal]


def credit_totals_check() -> list[TotalDifference]:
    """Recompute every yearly total from the records; the rows that differ.

    The comparison runs in the database (one grouped pass over the records joined to
    the totals), so only differing rows reach Python, whatever the number of people."""
    records = connection.ops.quote_name(CreditRecord._meta.db_table)
    totals = connection.ops.quote_name(CreditYearTotal._meta.db_table)
    # Only the models' own table names are formatted in; the category values are parameters.
    sql = f"""
        WITH sums AS (
            SELECT user_id, year,
                   ROUND(SUM(CASE WHEN category = %s THEN credits ELSE 0 END), 1) AS public,
                   ROUND(SUM(CASE WHEN category = %s THEN credits ELSE 0 END), 1) AS professional
            FROM {records} GROUP BY user_id, year
        )
        SELECT s.user_id, s.year, t.id, t.public_credits, t.professional_credits, t.total,
               s.public, s.professional
        FROM sums s LEFT JOIN {totals} t ON t.user_id = s.user_id AND t.year = s.year
        WHERE t.id IS NULL OR ROUND(t.public_credits, 1) <> s.public
              OR ROUND(t.professional_credits, 1) <> s.professional
              OR ROUND(t.total, 1) <> ROUND(s.public + s.professional, 1)
        UNION ALL
        SELECT t.user_id, t.year, t.id, t.public_credits, t.professional_credits, t.total, 0, 0
        FROM {totals} t
        WHERE (t.public_credits <> 0 OR t.professional_credits <> 0 OR t.total <> 0)
          AND NOT EXISTS (SELECT 1 FROM {records} r WHERE r.user_id = t.user_id AND r.year = t.year)
        ORDER BY 1, 2
    """  # noqa: S608
    zero = Decimal("0.0")

    def dec(value) -> Decimal:
        return Decimal(str(value or 0)).quantize(zero)

    differences = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [CreditCategory.PUBLIC.value, CreditCategory.PROFESSIONAL.value])
        for user_id, year, total_id, public, professional, total, want_public, want_professional in cursor:
            want = (dec(want_public), dec(want_professional), dec(want_public) + dec(want_professional))
            have = None if total_id is None else (dec(public), dec(professional), dec(total))
            differences.append(TotalDifference(user_id=user_id, year=year, stored=have, expected=want))
    return differences


@transaction.atomic
def credit_totals_repair(*, differences: list[TotalDifference]) -> int:
    """Set each differing total to what its records add up to; return how many rows changed."""
    for diff in differences:
        public, professional, total = diff.expected
        CreditYearTotal.objects.update_or_create(
            user_id=diff.user_id, year=diff.year,
            defaults={"public_credits": public, "professional_credits": professional, "total": total},
        )
    return len(differences)


def batch_counts(batch: CreditBatch) -> dict:
    """accepted / duplicate / rejected / pending counts of a batch (kept on the batch row)."""
    return {"accepted": batch.accepted_count, "duplicate": batch.duplicate_count,
            "rejected": batch.rejected_count, "pending": max(batch.record_count - batch.processed, 0)}
