"""The public report form's challenge against bots: offline, no third-party captcha.

A challenge is a token signed with the site's secret (django.core.signing, salted) that carries
a random nonce, a proof-of-work difficulty and a simple arithmetic question (whose answer is in
the token only as an HMAC, so reading the token does not reveal it). It is passed by either

- **proof of work** (the form's static JavaScript does it): a ``solution`` string such that
  SHA-256(token + ":" + solution) starts with ``bits`` zero bits (2^bits hashes on average;
  18 bits is well under a second in a browser, and costly for a bot sending thousands), or
- **the question** ("What is 7 plus 12?"), for visitors without JavaScript.

Tokens expire after ``MAX_AGE`` seconds and are spent once (``UsedChallenge``), so a solved
challenge cannot be replayed. ``verify`` checks; ``spend`` records the use inside the caller's
transaction, which also stores the report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput

from .models import UsedChallenge

SALT = "certhub.incidents.challenge"
MAX_AGE = 2 * 3600


@dataclass(frozen=True)
class Challenge:
    token: str
    bits: int
    question: str


def _answer_mac(nonce: str, answer: str) -> str:
    key = hashlib.sha256(f"{SALT}:{settings.SECRET_KEY}".encode()).digest()
    return hmac.new(key, f"{nonce}:{answer.strip()}".encode(), hashlib.sha256).hexdigest()


def new_challenge(bits: int | None = None) -> Challenge:
    bits = settings.PUBLIC_REPORT_POW_BITS if bits is None else bits
    nonce = secrets.token_hex(12)
    first, second = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    token = signing.dumps({"n": nonce, "b": bits, "q": _answer_mac(nonce, str(first + second))},
                          salt=SALT, compress=False)
    question = _("What is %(a)d plus %(b)d?") % {"a": first, "b": second}
    return Challenge(token=token, bits=bits, question=question)


def leading_zero_bits(digest: bytes) -> int:
    count = 0
    for byte in digest:
        if byte == 0:
            count += 8
            continue
        return count + 8 - byte.bit_length()
    return count


def solve(token: str, bits: int) -> str:
    """A proof-of-work solution (what the form's JavaScript computes; used by tests)."""
    counter = 0
    while leading_zero_bits(hashlib.sha256(f"{token}:{counter}".encode()).digest()) < bits:
        counter += 1
    return str(counter)


def verify(token: str, *, solution: str = "", answer: str = "") -> None:
    """InvalidInput (field ``challenge``) unless the token is ours, fresh, and solved."""
    refused = InvalidInput(_("The anti-robot check failed or expired: reload the form and try "
                             "again."), field="challenge")
    try:
        data = signing.loads(token or "", salt=SALT, max_age=MAX_AGE)
    except (signing.BadSignature, TypeError, ValueError):
        raise refused from None
    if not isinstance(data, dict):
        raise refused
    solution, answer = (solution or "")[:64], (answer or "")[:16]
    if solution:
        digest = hashlib.sha256(f"{token}:{solution}".encode()).digest()
        if leading_zero_bits(digest) >= int(data.get("b", 64)):
            return
    if answer and hmac.compare_digest(_answer_mac(str(data.get("n")), answer),
                                      str(data.get("q"))):
        return
    raise refused


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_spent(token: str) -> bool:
    return bool(token) and UsedChallenge.objects.filter(digest=_digest(token)).exists()


def spend(token: str) -> None:
    """Record the token as used (in the caller's transaction); InvalidInput if it already was."""
    try:
        with transaction.atomic():
            UsedChallenge.objects.create(digest=_digest(token), used_at=timezone.now())
    except IntegrityError:
        raise InvalidInput(_("This form was already sent: reload it to send another report."),
                           field="challenge") from None


def prune(now: dt.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - dt.timedelta(seconds=MAX_AGE)
    deleted, _rows = UsedChallenge.objects.filter(used_at__lt=cutoff).delete()
    return deleted
