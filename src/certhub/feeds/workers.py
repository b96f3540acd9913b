"""The entry points of the worker processes ``run_feed(workers=N)`` starts for a split run.

Forked where the system can (Linux): the parent builds the warning-list index, the directory
lookup index and the IP data once (several seconds and a few hundred MB), closes its database
connections, and the children share those pages copy-on-write and open their own connections.
Elsewhere they are spawned: a fresh interpreter that sets Django up and builds its own indexes.
This module imports nothing of Django's models at import time, so a spawned child can unpickle
its target before Django is set up.
"""

from __future__ import annotations


def take_parts(run_id: int, batch_size: int, database: str) -> None:
    """Set Django up on the parent's database (by name: a test database, a benchmark's) and
    claim and process parts of the run until none is left."""
    import django
    from django.conf import settings

    django.setup()
    settings.DATABASES["default"]["NAME"] = database
    from django.db import connections

    from .models import FeedRun
    from .services import work_parts

    connections.close_all()
    try:
        work_parts(FeedRun.objects.select_related("feed").get(pk=run_id),
                   batch_size=batch_size)
    finally:
        connections.close_all()


def take_parts_forked(run_id: int, batch_size: int) -> None:
    """``take_parts`` in a forked child: Django is set up and the indexes are built already; the
    parent closed its connections before forking, so none is shared."""
    from django.db import connections

    from .models import FeedRun
    from .services import work_parts

    try:
        work_parts(FeedRun.objects.select_related("feed").get(pk=run_id),
                   batch_size=batch_size)
    finally:
        connections.close_all()


def warm_up(feed) -> None:
    """Build in this process what every worker of ``feed`` needs, before forking them."""
    from certhub.directory.lookup import resolve_many

    from .connectors.experts import warninglists

    resolve_many(["192.0.2.1"])  # the lookup index and the IP data, loaded on first use
    if feed.warninglists:
        warninglists.index()
