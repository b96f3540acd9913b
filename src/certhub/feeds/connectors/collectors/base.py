"""The collector contract: fetch what a feed points at into something a parser can read.

``collect`` returns the inputs of this run, in order; each is a file (or, for MISP feeds, a
folder) with a fingerprint (size, modification time) so a resumed run can tell that it is
reading the very same bytes. Downloads go to the run's spool folder, never to memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from django.utils.translation import gettext as _

from ..params import Param, validate


@dataclass
class Input:
    path: Path
    source: str  # what to show: the URL or path it came from
    size: int | None = None
    mtime_ns: int | None = None

    @classmethod
    def of(cls, path: Path, source: str) -> Input:
        stat = path.stat()
        return cls(path, source, stat.st_size, stat.st_mtime_ns)


@dataclass
class Collected:
    inputs: list[Input]
    not_modified: bool = False  # conditional GET: the source has not changed since last time
    etag: str = ""
    last_modified: str = ""


class Collector:
    kind: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, location: str, **given):
        self.location = location
        self.options = self.check(given)

    @classmethod
    def check(cls, given: dict | None) -> dict:
        return validate(cls.params, given, owner=_("Collector %(name)s") % {"name": cls.kind})

    @classmethod
    def check_location(cls, location: str) -> None:
        """Raise InvalidInput when ``location`` cannot be what this collector reads."""

    def collect(self, feed, spool: Path, *, folder_input: bool) -> Collected:
        raise NotImplementedError
