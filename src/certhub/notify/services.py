"""The one way any app tells people something: `notify()`.

INTERFACE (agreed between apps; the notify helper implements it fully):

    notify(event, *, subject, body, url="", organisations=(), users=(),
           to_emergency_contacts=False, attachments=(), payload=None, dedupe_key=None) -> int

- event: dotted name, e.g. "incidents.request.created", "incidents.request.overdue",
  "feeds.digest". Webhooks subscribe to events by name (or prefix).
- subject/body: plain text, already translated by the caller; url: a path on this site.
- organisations: every active user of each receives an in-app notification and an email; each
  organisation's webhooks subscribed to `event` receive `payload` (JSON), HMAC-signed.
- users: individual recipients (in-app + email).
- to_emergency_contacts: also email each organisation's 24/7 emergency contacts (Contact with
  role EMERGENCY), PGP-encrypted when the contact has a key.
- attachments: (filename, bytes, mimetype) tuples for the emails (encrypted too when PGP applies).
- dedupe_key: a notification with the same key is delivered at most once, ever (e.g. escalation
  of one overdue request). Returns the number of deliveries queued (0 when deduplicated).

Deliveries are queued with transaction.on_commit, so nothing goes out for a rolled-back change.
"""

from __future__ import annotations


def notify(event: str, *, subject: str, body: str, url: str = "", organisations=(), users=(),
           to_emergency_contacts: bool = False, attachments=(), payload: dict | None = None,
           dedupe_key: str | None = None) -> int:
    raise NotImplementedError("certhub.notify is being built")
