"""跨省调转: every state change of a transfer out or in.

Transfer out: `transfer_out_apply` stores the application (已提交) and queues its
submission; `transfer_out_submit` (a task, retried, swept) sends it to the national
platform; `transfer_sync` reads the platform's status into the row (待调入地接收,
已调入 → the account becomes 已调出); `transfer_out_withdraw` (撤回) asks the platform,
which decides a withdrawal racing the destination's receipt.

Transfer in: `transfer_in_verify` (step 1: identity + SMS code + a qualifying record
on the platform), `transfer_in_record` (step 2 reads it), `transfer_in_complete`
(step 3: confirm receipt with the platform, then create or re-open the account
and its 已采集 archive; a second submit creates nothing).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber

from accounts import sms
from accounts.identity import IdType, id_lookup_hash, mask_id_number, validate_id_number
from accounts.models import SmsPurpose, User
from accounts.services import account_create, user_sessions_end
from collection.models import Archive, ArchiveStatus, Division
from collection.services import education_write, personal_write, professional_write, upload_write, work_write
from portal.errors import PortalError
from portal.tasks import enqueue_on_commit

from . import national
from .business import BusinessRefused, business_check
from .models import OPEN_STATUSES, PlatformStatus, TransferIn, TransferOut, TransferReason, TransferStatus
from .national import PlatformRefused, PlatformUnavailable, RemoteStatus
from .payload import (
    archive_payload,
    credit_values,
    education_values,
    employment_status_of,
    image_contents,
    personal_values,
    professional_values,
)
from .provinces import home_province, other_province_choices, province_name

logger = logging.getLogger(__name__)


class TransferError(PortalError):
    """A transfer cannot do what was asked in its state."""


class TransferInRefused(PortalError):
    """跨省调入 is not possible for what was typed (the message says why)."""


# Platform status → the status shown on our row.
_FROM_PLATFORM = {
    PlatformStatus.WAITING: TransferStatus.SUBMITTED,
    PlatformStatus.PENDING_RECEIPT: TransferStatus.PENDING_RECEIPT,
    PlatformStatus.RECEIVED: TransferStatus.RECEIVED,
    PlatformStatus.WITHDRAWN: TransferStatus.WITHDRAWN,
}


# --- transfer out -----------------------------------------------------------------------


def transfer_out_apply(
    *, user: User, to_province: str, reason: str, destination: str, evidence: ContentFile
) -> TransferOut:
    """申请: an 已提交 application, refused while any business of the person is under way.

    The check and the insert happen under the person's lock (and one open transfer
    per person is also a database constraint), so two at once cannot both pass.
    """
    if to_province not in dict(other_province_choices()):
        raise TransferError(_("请选择调入省份。"), code="to_province")
    if reason not in TransferReason.values:
        raise TransferError(_("请选择调转原因。"), code="reason")
    destination = " ".join((destination or "").split())
    if not destination:
        raise TransferError(_("请填写调入单位、学校或地址。"), code="destination")
    transfer = TransferOut(user=user, to_province=to_province, reason=reason, destination=destination[:200])
    transfer.evidence.save("evidence.jpg", evidence, save=False)
    stored = transfer.evidence.name
    try:
        with transaction.atomic():
            business_check(user=user, action="transfer")
            if not Archive.objects.filter(user=user, status=ArchiveStatus.COLLECTED).exists():
                raise TransferError(_("请先完成信息采集。"), code="not_collected")
            try:
                with transaction.atomic():
                    transfer.save()
            except IntegrityError:
                raise BusinessRefused(_("您已有进行中的调出省外申请，不能重复申请。"), code="transfer") from None
            from . import tasks

            enqueue_on_commit(tasks.transfer_out_submit, transfer.pk)
    except BaseException:
        default_storage.delete(stored)
        raise
    logger.info("transfer out %s applied for by user %s (to %s)", transfer.pk, user.pk, to_province)
    return transfer


def _apply_remote(transfer: TransferOut, remote: RemoteStatus) -> None:
    """Take the platform's status into our row (a final status is never left again)."""
    now = timezone.now()
    transfer.platform_ref = transfer.platform_ref or remote.ref
    transfer.platform_status_at = now
    transfer.sync_error = ""
    new = _FROM_PLATFORM.get(remote.status)
    if new is not None and transfer.is_open and new != transfer.status:
        transfer.status = new
        if new == TransferStatus.RECEIVED:
            transfer.received_at = remote.updated_at or now
            # 已调出: the person keeps reading, every business action is refused.
            User.objects.filter(pk=transfer.user_id, transferred_out_at__isnull=True).update(transferred_out_at=now)
            logger.info("transfer out %s received by the destination: user %s is 已调出", transfer.pk,
                        transfer.user_id)
        elif new == TransferStatus.WITHDRAWN:
            transfer.withdrawn_at = now
    transfer.save()


def _sync_error(transfer_id: int, exc: Exception) -> None:
    detail = getattr(exc, "detail", "") or str(exc)
    TransferOut.objects.filter(pk=transfer_id).update(sync_error=detail[:200])


def transfer_out_submit(*, transfer_id: int) -> bool:
    """Send an 已提交 application to the platform (idempotent). False: the platform is
    unreachable and the row stays 已提交 for a retry or the sweep."""
    with transaction.atomic():
        transfer = TransferOut.objects.select_for_update().filter(pk=transfer_id).first()
        if transfer is None or transfer.status != TransferStatus.SUBMITTED or transfer.platform_ref:
            return True
        user = transfer.user
        archive = Archive.objects.select_related("ethnicity", "political_status").get(user=user)
        try:
            remote = national.platform().transfer_submit(
                client_ref=transfer.client_ref, from_province=home_province(), to_province=transfer.to_province,
                name=user.name, id_type=user.id_type, id_number=user.id_number, mobile=str(user.mobile or ""),
                reason=transfer.reason, destination=transfer.destination, payload=archive_payload(archive=archive),
            )
        except PlatformUnavailable as exc:
            transfer.sync_error = exc.detail[:200] or "unavailable"
            transfer.save(update_fields=["sync_error"])
            return False
        _apply_remote(transfer, remote)
    logger.info("transfer out %s submitted to the platform as %s", transfer.pk, transfer.platform_ref)
    return True


def transfer_submit_sweep(*, older_than_seconds: int = 60) -> int:
    """Queue submissions still waiting (broker was down, worker killed, platform down)."""
    from . import tasks

    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    ids = list(
        TransferOut.objects.filter(
            status=TransferStatus.SUBMITTED, platform_ref__isnull=True, created_at__lt=cutoff
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        enqueue_on_commit(tasks.transfer_out_submit, pk)
    return len(ids)


def transfer_sync(*, transfer_id: int) -> bool:
    """Read one open transfer's status from the platform. False: the platform did not
    answer; the row keeps its last known status (and its time)."""
    transfer = TransferOut.objects.filter(pk=transfer_id).first()
    if transfer is None or not transfer.is_open or not transfer.platform_ref:
        return True
    try:
        remote = national.platform().transfer_status(ref=transfer.platform_ref)
    except (PlatformUnavailable, PlatformRefused) as exc:
        _sync_error(transfer_id, exc)
        logger.warning("transfer %s: status not read from the platform (%s)", transfer_id, exc)
        return False
    with transaction.atomic():
        transfer = TransferOut.objects.select_for_update().get(pk=transfer_id)
        _apply_remote(transfer, remote)
    return True


def transfers_sync() -> int:
    """The periodic sync of every open transfer; returns how many were read."""
    ids = TransferOut.objects.filter(status__in=OPEN_STATUSES, platform_ref__isnull=False).values_list("pk", flat=True)
    return sum(1 for pk in list(ids) if transfer_sync(transfer_id=pk))


def transfer_out_withdraw(*, user: User, transfer_id: int) -> TransferOut:
    """撤回, until the destination receives. The platform decides a race with the
    destination's receipt: if the receipt won, the row becomes 已调入 and we say so."""
    lost_to_receipt = False
    with transaction.atomic():
        transfer = TransferOut.objects.select_for_update().filter(pk=transfer_id, user=user).first()
        if transfer is None:
            raise TransferOut.DoesNotExist
        if not transfer.is_open:
            raise TransferError(
                _("该申请当前状态为“%(status)s”，不能撤回。") % {"status": transfer.get_status_display()},
                code="not_open",
            )
        client = national.platform()
        ref = transfer.platform_ref
        if ref is None:
            # Not known to be submitted: the platform may still hold it (a submission
            # whose answer was lost), so ask before withdrawing only here.
            found = client.transfer_find(client_ref=transfer.client_ref)
            ref = found.ref if found else None
        if ref is None:
            transfer.status = TransferStatus.WITHDRAWN
            transfer.withdrawn_at = timezone.now()
            transfer.save(update_fields=["status", "withdrawn_at"])
        else:
            try:
                remote = client.transfer_withdraw(ref=ref)
            except PlatformRefused as exc:
                if exc.code != PlatformStatus.RECEIVED:
                    raise TransferError(exc.message, code=exc.code) from None
                remote = RemoteStatus(ref=ref, status=PlatformStatus.RECEIVED, updated_at=timezone.now())
                lost_to_receipt = True
            transfer.platform_ref = ref
            _apply_remote(transfer, remote)
    if lost_to_receipt:
        raise TransferError(_("调入地已接收您的调转，不能再撤回。"), code="received")
    logger.info("transfer out %s withdrawn by user %s", transfer.pk, user.pk)
    return transfer


# --- transfer in ------------------------------------------------------------------------


def transfer_in_code_request(*, mobile: PhoneNumber, ip: str) -> None:
    sms.sms_code_issue(mobile=mobile, purpose=SmsPurpose.TRANSFER_IN, ip=ip)


def _not_found() -> TransferInRefused:
    return TransferInRefused(
        _(
            "未找到可以调入贵州省的记录。请确认：已在原采集地申请调出，调入地选择了贵州省，"
            "全国平台状态为“待调入地接收”，且姓名、证件号码和手机号码与原采集地登记的一致。"
        ),
        code="not_found",
    )


def _status_refusal(status: str) -> TransferInRefused:
    messages = {
        PlatformStatus.WAITING: _(
            "您的调出申请尚在原采集地办理中（等待调转），待全国平台状态为“待调入地接收”后再办理调入。"
        ),
        PlatformStatus.RECEIVED: _("该调转记录已被接收，无需再次办理调入。如已在本省调入，请直接登录。"),
        PlatformStatus.WITHDRAWN: _("该调转已由原采集地撤回，不能调入。如需调入，请在原采集地重新申请调出。"),
    }
    return TransferInRefused(messages.get(status, str(_not_found())), code=f"status_{status}")


def _completable(record: national.IncomingRecord) -> bool:
    """待调入地接收; or already received by this province (a record bound here can only be
    received here) in a completion whose local part failed: the person may finish it."""
    if record.status == PlatformStatus.PENDING_RECEIPT:
        return True
    return (
        record.status == PlatformStatus.RECEIVED
        and record.to_province == home_province()
        and not TransferIn.objects.filter(platform_ref=record.ref, user__isnull=False).exists()
    )


def _existing_refusal(existing: User | None) -> TransferInRefused | None:
    if existing is None or existing.transferred_out_at is not None:
        return None
    if Archive.objects.filter(user=existing, status=ArchiveStatus.COLLECTED).exists():
        return TransferInRefused(
            _("该证件号码已在贵州省注册并完成信息采集，无需办理跨省调入，请直接登录。"), code="already_here"
        )
    return None


def transfer_in_verify(
    *, name: str, id_type: str, id_number: str, mobile: PhoneNumber, sms_code: str
) -> str:
    """第一步 填写验证信息: the SMS code, then a record on the platform bound for Guizhou,
    待调入地接收, for this name, ID and mobile. Returns the platform reference.

    A code is used up by any answer from the platform, so each probe costs an SMS."""
    facts = validate_id_number(id_type, id_number)
    e164 = mobile.as_e164
    code = sms.sms_code_verify(mobile=e164, purpose=SmsPurpose.TRANSFER_IN, code=sms_code)
    record = national.platform().incoming_find(
        to_province=home_province(), name=name, id_type=id_type, id_number=facts.number
    )  # PlatformUnavailable: the code stays valid for another try
    sms.sms_code_consume(code=code)
    if record is None or record.mobile != e164 or record.id_number != facts.number:
        raise _not_found()
    if not _completable(record):
        raise _status_refusal(record.status)
    existing = User.objects.filter(id_hash=id_lookup_hash(facts.number)).first()
    refusal = _existing_refusal(existing)
    if refusal:
        raise refusal
    holder = User.objects.filter(mobile=e164).exclude(pk=existing.pk if existing else None).first()
    if holder is not None:
        raise TransferInRefused(
            _("该手机号码已绑定贵州省的其他账号，请更换手机号码后在原采集地更新，或联系主管部门。"), code="mobile_taken"
        )
    logger.info("transfer in verified: platform record %s for %s", record.ref, mask_id_number(facts.number))
    return record.ref


@dataclass(frozen=True)
class IncomingView:
    """第二步 确认调入信息: what the person sees, masked where sensitive."""

    ref: str
    name: str
    id_type: str
    id_number_masked: str
    mobile_masked: str
    from_province: str
    summary: dict


def transfer_in_record(*, ref: str) -> IncomingView:
    """The record behind a verified reference, still 待调入地接收 and bound for Guizhou."""
    from accounts.identity import mask_mobile

    record = national.platform().incoming_get(ref=ref)
    if record is None or record.to_province != home_province():
        raise _not_found()
    if not _completable(record):
        raise _status_refusal(record.status)
    return IncomingView(
        ref=record.ref, name=record.name, id_type=IdType(record.id_type).label if record.id_type in IdType.values
        else record.id_type, id_number_masked=mask_id_number(record.id_number),
        mobile_masked=mask_mobile(record.mobile), from_province=province_name(record.from_province),
        summary=_summary(record.payload),
    )


def _summary(payload: dict) -> dict:
    """What step 2 shows of the carried archive (names, not codes; no images)."""
    from collection.models import (
        Degree,
        EducationLevel,
        EducationMode,
        QualificationLevel,
        QualificationMethod,
        QualificationType,
    )
    from education.models import CreditCategory

    levels = dict(EducationLevel.objects.values_list("code", "name"))
    degrees = dict(Degree.objects.values_list("code", "name"))
    educations = [
        {
            "mode": EducationMode(row["mode"]).label if row.get("mode") in EducationMode.values else "",
            "level": levels.get(str(row.get("level")), ""), "degree": degrees.get(str(row.get("degree")), ""),
            "school": row.get("school", ""), "major": row.get("major", ""),
            "graduation_date": row.get("graduation_date", ""),
        }
        for row in payload.get("educations") or [] if isinstance(row, dict)
    ]
    labels = {
        **dict(QualificationType.choices), **dict(QualificationLevel.choices), **dict(QualificationMethod.choices)
    }
    qualifications = [
        {
            "type": labels.get(row.get("qualification_type"), ""), "level": labels.get(row.get("level"), ""),
            "method": labels.get(row.get("method"), ""), "obtained_on": row.get("obtained_on", ""),
        }
        for row in payload.get("qualifications") or [] if isinstance(row, dict)
    ]
    years: dict[int, dict] = {}
    for row in credit_values(payload):
        year = years.setdefault(row["year"], {"year": row["year"], "public": 0, "professional": 0})
        year[row["category"]] += row["credits"]
    credits = [
        {**y, "total": y["public"] + y["professional"]} for _year, y in sorted(years.items(), reverse=True)
    ]
    return {
        "educations": educations, "qualifications": qualifications, "credits": credits,
        "categories": dict(CreditCategory.choices),
    }


def transfer_in_identity(*, ref: str) -> tuple[str, str, str]:
    """(name, mobile, ID number) of a verified record, for the password policy check only."""
    record = national.platform().incoming_get(ref=ref)
    if record is None or record.to_province != home_province():
        raise _not_found()
    # As transfer_in_complete: withdrawn since step 1 → back to step 1 with the reason
    # (received is let through: a second submit of step 3 answers with the account).
    if record.status not in (PlatformStatus.PENDING_RECEIPT, PlatformStatus.RECEIVED):
        raise _status_refusal(record.status)
    return record.name, record.mobile, record.id_number


def _account_for(record: national.IncomingRecord, password: str) -> tuple[User, bool]:
    """Create the account, or re-open the one of a person who once left Guizhou."""
    facts = validate_id_number(record.id_type, record.id_number)
    existing = User.objects.select_for_update().filter(id_hash=id_lookup_hash(facts.number)).first()
    if existing is None:
        user = account_create(
            name=record.name, id_type=record.id_type, id_number=facts.number, password=password,
            mobile=record.mobile, works_in_guizhou=True, holds_qualification=None,
        )
        return user, False
    refusal = _existing_refusal(existing)
    if refusal:
        raise refusal
    existing.name = record.name
    existing.mobile = record.mobile
    existing.transferred_out_at = None
    existing.is_active = True
    existing.works_in_guizhou = True
    existing.set_password(password)
    existing.save()
    user_sessions_end(user=existing)
    return existing, True


def _archive_for(
    *, user: User, ref: str, payload: dict, images: dict, division: Division, employer: str,
    provincial_declaration: bool,
) -> Archive:
    archive = Archive.objects.select_for_update().filter(user=user).first() or Archive(user=user)
    personal_write(archive, **personal_values(payload))
    for field, content in images.items():
        upload_write(archive, field=field, content=content)
    certification, qualifications = professional_values(payload)
    now = timezone.now()
    archive.notice_accepted_at = archive.notice_accepted_at or now
    archive.personal_done = archive.education_done = archive.professional_done = archive.work_done = True
    archive.step_drafts = {}
    archive.save()
    full_time, part_time = education_values(payload)
    education_write(archive, full_time=full_time, part_time=part_time)
    professional_write(archive, certification=certification, qualifications=qualifications, talents=[], awards=[])
    work_write(
        archive, employment_status=employment_status_of(payload), division=division, employer=employer, school="",
        provincial_declaration=provincial_declaration,
    )
    archive.status = ArchiveStatus.COLLECTED
    archive.collected_at = now
    archive.archive_number = archive.archive_number or f"52{timezone.localtime(now):%Y}{archive.pk:08d}"
    archive.version += 1
    archive.save()
    return archive


def _credits_carried(*, user: User, ref: str, payload: dict) -> int:
    """The credit history the record carries, except what this person already has here."""
    from education.credits import credit_record_add
    from education.models import CreditRecord, CreditSource

    have = {
        (r.year, r.category, r.credits, r.course, r.completed_at)
        for r in CreditRecord.objects.filter(user=user)
    }
    added = 0
    for index, row in enumerate(credit_values(payload)):
        if (row["year"], row["category"], row["credits"], row["course"], row["completed_at"]) in have:
            continue
        credit_record_add(user=user, source=CreditSource.TRANSFER, record_id=f"{ref}-{index}", **row)
        added += 1
    return added


def transfer_in_complete(
    *, ref: str, division: Division, employer: str, password: str, provincial_declaration: bool = False
) -> User:
    """第三步 设置账号登录密码 → 完成: receipt confirmed with the platform, then the account
    and its 已采集 archive. Submitted twice (or twice at once), it creates one of each."""
    done = TransferIn.objects.filter(platform_ref=ref, user__isnull=False).select_related("user").first()
    if done is not None:
        return done.user
    employer = " ".join((employer or "").split())
    if not employer:
        raise TransferInRefused(_("请填写工作单位。"), code="employer")
    client = national.platform()
    record = client.incoming_get(ref=ref)
    if record is None or record.to_province != home_province():
        raise _not_found()
    if record.status not in (PlatformStatus.PENDING_RECEIPT, PlatformStatus.RECEIVED):
        raise _status_refusal(record.status)
    images = image_contents(record.payload)  # checked before anything is confirmed or written
    personal_values(record.payload)
    education_values(record.payload)
    professional_values(record.payload)
    try:
        client.incoming_receive(ref=ref, to_province=home_province())  # idempotent for the receiver
    except PlatformRefused as exc:
        raise _status_refusal(exc.code) from None
    try:
        with transaction.atomic():
            # First write: a concurrent completion of the same record waits here, then fails.
            row = TransferIn.objects.create(platform_ref=ref, from_province=record.from_province)
            user, reopened = _account_for(record, password)
            archive = _archive_for(
                user=user, ref=ref, payload=record.payload, images=images, division=division, employer=employer,
                provincial_declaration=provincial_declaration,
            )
            credits = _credits_carried(user=user, ref=ref, payload=record.payload)
            row.user = user
            row.reopened = reopened
            row.save(update_fields=["user", "reopened"])
    except IntegrityError:
        done = TransferIn.objects.filter(platform_ref=ref, user__isnull=False).select_related("user").first()
        if done is not None:
            return done.user
        raise
    logger.info(
        "transfer in %s completed: user %s, archive %s, %d carried credits%s", ref, user.pk,
        archive.archive_number, credits, " (re-opened)" if reopened else "",
    )
    return user
