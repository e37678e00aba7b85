"""Logging filter that keeps ID and mobile numbers out of every log line."""

import logging
import re

# 18-character resident-style IDs (with x/X check), 15-digit legacy IDs,
# and mainland mobiles (optionally +86). Kept deliberately broad.
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8,11}([0-9Xx]{0,1}\d{0,3}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?<!\d)(\+?86)?(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def redact(text: str) -> str:
    text = _ID_RE.sub(lambda m: f"{m.group(1)}********{m.group(2)[-4:]}", text)
    return _MOBILE_RE.sub(lambda m: f"{m.group(2)}****{m.group(3)}", text)


class RedactSensitiveFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix here
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
