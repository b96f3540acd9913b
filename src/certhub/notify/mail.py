"""Outgoing mail, PGP/MIME-encrypted (RFC 3156) when the recipient has a key.

The whole MIME entity Django would send (text and attachments) is encrypted with PGPy and
becomes the second part of a ``multipart/encrypted; protocol="application/pgp-encrypted"``
message; the first part is the ``Version: 1`` identification. Headers (subject, from, to)
stay readable, as PGP/MIME has them: callers put nothing sensitive in a subject.
"""

from __future__ import annotations

import warnings
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase

from django.core.mail import EmailMessage
from django.core.mail.message import SafeMIMEMultipart


def load_public_key(armored: str):
    import pgpy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        key, _ = pgpy.PGPKey.from_blob(armored.strip())
    return key


def encrypt(data: bytes, armored_key: str) -> str:
    """``data`` encrypted to ``armored_key``, ASCII-armoured."""
    import pgpy

    key = load_public_key(armored_key)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(key.encrypt(pgpy.PGPMessage.new(data, file=True)))


class PGPEmailMessage(EmailMessage):
    """An ``EmailMessage`` whose body and attachments travel encrypted (RFC 3156 section 4)."""

    def __init__(self, *args, encrypt_to: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.encrypt_to = encrypt_to

    def _create_message(self, msg):
        inner = super()._create_message(msg)
        # RFC 3156: the encrypted entity is in canonical form (CRLF line endings).
        cleartext = inner.as_bytes(linesep="\r\n")
        outer = SafeMIMEMultipart(_subtype="encrypted", protocol="application/pgp-encrypted")
        version = MIMEBase("application", "pgp-encrypted")
        version.set_payload("Version: 1\n")
        version["Content-Description"] = "PGP/MIME version identification"
        payload = MIMEApplication(encrypt(cleartext, self.encrypt_to), "octet-stream",
                                  _encoder=_noop, name="encrypted.asc")
        payload["Content-Description"] = "OpenPGP encrypted message"
        payload["Content-Disposition"] = 'inline; filename="encrypted.asc"'
        outer.attach(version)
        outer.attach(payload)
        return outer


def _noop(part) -> None:
    """ASCII armour is already 7-bit text: no transfer encoding."""
    part["Content-Transfer-Encoding"] = "7bit"


def build(*, subject: str, body: str, to: str, attachments=(), pgp_key: str = "") -> EmailMessage:
    attachments = [(name, bytes(content), mimetype) for name, content, mimetype in attachments]
    headers = {"Auto-Submitted": "auto-generated"}  # RFC 3834: no vacation replies, please
    if pgp_key:
        return PGPEmailMessage(subject=subject, body=body, to=[to], attachments=attachments,
                               headers=headers, encrypt_to=pgp_key)
    return EmailMessage(subject=subject, body=body, to=[to], attachments=attachments,
                        headers=headers)
