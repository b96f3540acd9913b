"""Incidents reported by email: read a message (RFC 5322, as a ``.eml`` file or from a mailbox)
into plain facts, and fetch new messages from the mailbox named by CERTHUB_MAILIN_URL.

``imaps://user@host:993/INBOX`` (or ``imap://``, STARTTLS is then required) reads unseen
messages and marks them seen once stored; ``pop3s://user@host:995`` (or ``pop3://`` with STLS)
reads and deletes them. The password is CERTHUB_MAILIN_PASSWORD. Nothing here writes to the
database: services.import_email does, and it skips a Message-ID it already has, so a message
fetched twice (a crash between storing and marking) becomes one incident.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import email.utils
import imaplib
import poplib
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote, urlsplit

import nh3
from django.conf import settings
from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput

MAX_MESSAGE_BYTES = 30 * 1024 * 1024


@dataclass
class ParsedMessage:
    message_id: str
    subject: str
    sender_name: str
    sender_email: str
    date: datetime | None
    body: str
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)


def parse(raw: bytes) -> ParsedMessage:
    """The facts of one message; InvalidInput when it is not a message at all."""
    if not raw or not raw.strip():
        raise InvalidInput(_("The message is empty."), field="message")
    if len(raw) > MAX_MESSAGE_BYTES:
        raise InvalidInput(_("The message is larger than %(mb)d MB.")
                           % {"mb": MAX_MESSAGE_BYTES // (1024 * 1024)}, field="message")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if not message.keys() or not (message["From"] or message["Subject"]):
        raise InvalidInput(_("This is not an email message (no From or Subject header)."),
                           field="message")
    name, address = email.utils.parseaddr(str(message["From"] or ""))
    try:
        date = email.utils.parsedate_to_datetime(str(message["Date"])) if message["Date"] else None
        if date is not None and date.tzinfo is None:
            date = None
    except (TypeError, ValueError):
        date = None
    body_part = message.get_body(preferencelist=("plain", "html"))
    body = ""
    if body_part is not None:
        try:
            body = body_part.get_content()
        except (LookupError, UnicodeDecodeError):
            body = body_part.get_payload(decode=True).decode("utf-8", "replace")
        if body_part.get_content_subtype() == "html":
            body = nh3.clean(body, tags=set())  # text only
    attachments = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        if payload is None:
            continue
        attachments.append((part.get_filename() or "attachment.bin",
                            part.get_content_type(), payload))
    return ParsedMessage(
        message_id=_text(message["Message-ID"]).strip()[:500],
        subject=" ".join(_text(message["Subject"]).split())[:300],
        sender_name=_text(name)[:200], sender_email=_text(address)[:254], date=date,
        body=_text(body).strip(), attachments=attachments)


def _text(value) -> str:
    """Header or body text fit to store: databases refuse NUL characters, which a hostile
    message may carry; they mean nothing in mail text, so they go."""
    return str(value or "").replace("\x00", "")


@dataclass(frozen=True)
class Mailbox:
    scheme: str
    host: str
    port: int | None
    user: str
    password: str
    folder: str


def configured_mailbox() -> Mailbox | None:
    url = settings.MAILIN_URL
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"imap", "imaps", "pop3", "pop3s"} or not parts.hostname:
        raise InvalidInput(_("CERTHUB_MAILIN_URL must be imaps://user@host/FOLDER or "
                             "pop3s://user@host."), field="CERTHUB_MAILIN_URL")
    return Mailbox(scheme=parts.scheme, host=parts.hostname, port=parts.port,
                   user=unquote(parts.username or ""),
                   password=settings.MAILIN_PASSWORD or unquote(parts.password or ""),
                   folder=unquote(parts.path.lstrip("/")) or "INBOX")


def fetch(mailbox: Mailbox, store: Callable[[bytes], object]) -> Iterator[object]:
    """Call ``store(raw)`` for each new message; a message is marked seen (IMAP) or deleted
    (POP3) only after ``store`` returned without raising."""
    context = ssl.create_default_context()
    if mailbox.scheme.startswith("imap"):
        yield from _fetch_imap(mailbox, store, context)
    else:
        yield from _fetch_pop3(mailbox, store, context)


def _fetch_imap(mailbox: Mailbox, store, context) -> Iterator[object]:
    if mailbox.scheme == "imaps":
        client = imaplib.IMAP4_SSL(mailbox.host, mailbox.port or 993, ssl_context=context)
    else:
        client = imaplib.IMAP4(mailbox.host, mailbox.port or 143)
        client.starttls(ssl_context=context)
    try:
        client.login(mailbox.user, mailbox.password)
        client.select(mailbox.folder)
        _status, data = client.uid("search", None, "UNSEEN")
        for uid in (data[0] or b"").split():
            _status, parts = client.uid("fetch", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in parts if isinstance(part, tuple)), b"")
            yield store(raw)
            client.uid("store", uid, "+FLAGS", "(\\Seen)")
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def _fetch_pop3(mailbox: Mailbox, store, context) -> Iterator[object]:
    if mailbox.scheme == "pop3s":
        client = poplib.POP3_SSL(mailbox.host, mailbox.port or 995, context=context)
    else:
        client = poplib.POP3(mailbox.host, mailbox.port or 110)
        client.stls(context=context)
    try:
        client.user(mailbox.user)
        client.pass_(mailbox.password)
        count, _size = client.stat()
        for number in range(1, count + 1):
            _response, lines, _octets = client.retr(number)
            yield store(b"\r\n".join(lines) + b"\r\n")
            client.dele(number)
    finally:
        client.quit()
