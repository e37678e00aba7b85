"""The one base type for broken domain rules; views turn it into a message."""


class PortalError(Exception):
    """A rule of the domain refused the operation; `message` is shown to the user."""

    def __init__(self, message: str, *, code: str = "", retry_after: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = retry_after

    def __str__(self) -> str:
        return str(self.message)
