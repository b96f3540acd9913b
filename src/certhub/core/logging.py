"""Logging filter that keeps secrets (passwords, tokens, keys) out of every log line."""

import logging
import re

_SECRET = re.compile(
    r"(?i)(password|passwd|secret|token|api[_-]?key|authorization|otp|totp)(\"?\s*[:=]\s*\"?)"
    r"([^\s\",&]+)"
)
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_TOKEN = re.compile(r"chub_[A-Za-z0-9_-]{8,}")


def redact(text: str) -> str:
    text = _SECRET.sub(r"\1\2[redacted]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    return _TOKEN.sub("chub_[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
