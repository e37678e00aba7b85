"""Request helpers shared by every app."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The client's address; X-Forwarded-For only counts behind trusted proxies."""
    remote = request.META.get("REMOTE_ADDR", "") or "0.0.0.0"  # noqa: S104
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
    # Each trusted proxy appends the address it saw; the client is the one the
    # outermost trusted proxy saw. Anything further left is client-supplied.
    if len(forwarded) >= proxies:
        return forwarded[-proxies]
    return remote


def private_image_response(field_file):
    """A stored private image (an upload, a claim's or transfer's evidence) to whoever the
    calling view already allowed: never cached, never sniffed into something else; a
    missing file is 404."""
    from django.http import FileResponse, Http404

    if not field_file:
        raise Http404
    try:
        handle = field_file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(handle, content_type="image/jpeg")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    response["Content-Disposition"] = "inline"
    return response
