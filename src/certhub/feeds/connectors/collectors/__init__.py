"""Collectors by source kind (Feed.source_kind)."""

from __future__ import annotations

from .base import Collected, Collector, Input
from .http import HttpCollector
from .local import FileCollector, FolderCollector
from .remote import MispFeedCollector, TaxiiCollector

COLLECTORS: dict[str, type[Collector]] = {collector.kind: collector for collector in (
    HttpCollector, FileCollector, FolderCollector, TaxiiCollector, MispFeedCollector)}


def get(kind: str) -> type[Collector]:
    return COLLECTORS[kind]


__all__ = ["COLLECTORS", "Collected", "Collector", "Input", "get"]
