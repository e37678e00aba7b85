"""办理中业务: what a person has under way, and the per-person lock that makes the check hold.

One place decides whether a person may start a business action:

- `pending_business(user)` lists what is under review (a 待审核 学分确认申请, an open
  跨省调出); a transfer out is refused while the list is not empty;
- `business_refusal(user, action)` says why an action is refused now: the account
  is 已调出, or (for 学分确认申请 and 信息变更) a transfer out is open;
- `person_lock(user)` locks the person's archive row: every service that checks
  and then starts business takes it first, so two requests at once (two 申请, or a
  claim filed while a transfer is applied for) are serialised and cannot both pass.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collection.models import Archive
from portal.errors import PortalError

from .models import OPEN_STATUSES, TransferOut


class BusinessRefused(PortalError):
    """The person may not start this business now; the message says why."""


# Actions refused while a transfer out is open.
BLOCKED_BY_OPEN_TRANSFER = {
    "claim": gettext_lazy("学分确认申请"),
    "change": gettext_lazy("信息变更"),
}


def person_lock(*, user) -> None:
    """Lock the person's archive row until the transaction ends (call inside atomic)."""
    Archive.objects.select_for_update(of=("self",)).filter(user_id=user.pk).values_list("pk", flat=True).first()


def open_transfer_of(*, user) -> TransferOut | None:
    return TransferOut.objects.filter(user_id=user.pk, status__in=OPEN_STATUSES).first()


def transferred_out_message() -> str:
    return _("您的档案已调出贵州省（已调出），可以查看档案和继续教育记录，但不能再办理业务。")


def pending_business(*, user) -> list[str]:
    """Everything of the person under review, each as a sentence naming it."""
    from education.claims import claim_pending_exists

    pending = []
    if claim_pending_exists(user=user):
        pending.append(_("您有待审核的学分确认申请，请等待审核完成或撤回后再申请。"))
    transfer = open_transfer_of(user=user)
    if transfer is not None:
        pending.append(
            _("您已有进行中的调出省外申请（%(status)s），不能重复申请。") % {"status": transfer.get_status_display()}
        )
    return pending


def business_refusal(*, user, action: str) -> str | None:
    """Why `action` ("claim", "change", "transfer", "enrol", ...) is refused now, or None."""
    if user.transferred_out_at is not None:
        return transferred_out_message()
    if action == "transfer":
        pending = pending_business(user=user)
        return pending[0] if pending else None
    if action in BLOCKED_BY_OPEN_TRANSFER:
        transfer = open_transfer_of(user=user)
        if transfer is not None:
            return _("您有进行中的跨省调出申请（%(status)s），暂不能办理%(action)s。如需办理，请先撤回调出申请。") % {
                "status": transfer.get_status_display(), "action": BLOCKED_BY_OPEN_TRANSFER[action],
            }
    return None


def business_check(*, user, action: str) -> None:
    """Lock the person and raise BusinessRefused when `action` may not start (inside atomic)."""
    person_lock(user=user)
    # The lock above may have waited: read the person's state again.
    user.refresh_from_db(fields=["transferred_out_at"])
    reason = business_refusal(user=user, action=action)
    if reason:
        raise BusinessRefused(reason, code=action)
