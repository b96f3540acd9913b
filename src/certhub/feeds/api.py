"""Feeds API, mounted at /api/v1/feeds/: findings inboxes, runs."""

from ninja import Router

router = Router(tags=["feeds"])
