"""Local sources: one file, or a folder of files (each a run of its own, in name order)."""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certhub.core.errors import InvalidInput

from ..params import Param
from .base import Collected, Collector, Input


class FileCollector(Collector):
    kind = "file"

    @classmethod
    def check_location(cls, location: str) -> None:
        if not location or "://" in location:
            raise InvalidInput(_("A file source needs a local path."), field="location")

    def collect(self, feed, spool: Path, *, folder_input: bool) -> Collected:
        path = Path(self.location)
        if folder_input and path.is_dir():
            return Collected([Input.of(path, str(path))])
        if not path.is_file():
            raise InvalidInput(_("%(path)s is not a readable file.") % {"path": path},
                               field="location")
        return Collected([Input.of(path, str(path))])


class FolderCollector(Collector):
    kind = "folder"
    params = (Param("pattern", str, "*",
                    help=gettext_lazy("Which files of the folder to read (glob).")),)

    @classmethod
    def check_location(cls, location: str) -> None:
        FileCollector.check_location(location)

    def collect(self, feed, spool: Path, *, folder_input: bool) -> Collected:
        folder = Path(self.location)
        if not folder.is_dir():
            raise InvalidInput(_("%(path)s is not a folder.") % {"path": folder},
                               field="location")
        if folder_input:  # e.g. a MISP feed laid out on disk
            return Collected([Input.of(folder, str(folder))])
        files = sorted(path for path in folder.glob(self.options["pattern"]) if path.is_file())
        return Collected([Input.of(path, str(path)) for path in files])
