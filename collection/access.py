"""The gate of every section that needs a collected archive (信息变更, 继续教育, and later 跨省调转)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .models import ArchiveStatus
from .selectors import archive_brief_for, archive_for


def collected_required(template: str, *, with_archive: bool = False, business: str | None = None):
    """Login required; without a 已采集 archive, `template` (a message and a link
    to 信息采集) with status 403. `with_archive` passes the archive to the view.

    `business` names the action the view starts ("change", "claim", "transfer", ...):
    when transfers.business refuses it now (已调出, an open transfer out), the page
    says why instead of offering a form that cannot be submitted."""

    def decorator(view):
        @login_required
        @never_cache
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            # The whole archive only for views that use it; the gate itself needs its status.
            archive = archive_for(user=request.user) if with_archive else archive_brief_for(user=request.user)
            if archive is None or archive.status != ArchiveStatus.COLLECTED:
                return render(request, template, {"archive": archive}, status=403)
            if business:
                from transfers.business import business_refusal

                reason = business_refusal(user=request.user, action=business)
                if reason:
                    return render(request, "transfers/refused.html", {"reason": reason}, status=403)
            if with_archive:
                return view(request, archive, *args, **kwargs)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
