"""Static checks of a remote collection's configuration (the admin form and every pull)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.utils.translation import gettext as _

from certhub.core.errors import InvalidInput
from certhub.feeds import schedule as schedules

from .models import AuthKind


def check_remote(remote) -> None:
    """InvalidInput naming the field, if the configuration cannot work."""
    url = urlsplit(remote.api_root_url or "")
    if url.scheme not in ("http", "https") or not url.hostname:
        raise InvalidInput(_("The API root must be an http(s) URL."), field="api_root_url")
    if url.username or url.password:
        raise InvalidInput(_("Put credentials in the authentication fields, not in the URL."),
                           field="api_root_url")
    if url.query or url.fragment:
        raise InvalidInput(_("The API root URL takes no query or fragment."),
                           field="api_root_url")
    if not (remote.collection_id or "").strip() or "/" in remote.collection_id.strip("/"):
        raise InvalidInput(_("Give the collection's id (not its URL)."), field="collection_id")
    if remote.auth == AuthKind.BASIC and not (remote.username and remote.secret):
        raise InvalidInput(_("HTTP Basic authentication needs a username and a password."),
                           field="secret" if remote.username else "username")
    if remote.auth == AuthKind.BEARER and not remote.secret:
        raise InvalidInput(_("Bearer authentication needs a token."), field="secret")
    if not 1 <= remote.page_size <= 10_000:
        raise InvalidInput(_("Ask for 1 to 10,000 objects per request."), field="page_size")
    # Well under services.STALE_AFTER: one slow page must not make a live pull look abandoned.
    if not 1 <= remote.timeout <= 600:
        raise InvalidInput(_("The timeout must be 1 to 600 seconds."), field="timeout")
    schedules.parse(remote.schedule)
    if remote.owner_id and remote.run_as_id:
        user = remote.run_as
        if user.organisation_id != remote.owner_id or not user.can_write:
            raise InvalidInput(_("The reports' creator must be an active administrator or "
                                 "analyst of the owner organisation."), field="run_as")
