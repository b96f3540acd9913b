"""Feeds, their runs (with every refused line) and the findings they deliver.

A ``Finding`` is stored once per organisation it is routed to (``organisation``), or once with
no organisation when nobody is responsible (only hub staff see those). One row per recipient
rather than a many-to-many audience: the inbox query is a single indexed range scan on
(organisation, created), acknowledgement is per recipient by nature, and the writer inserts
one row per event (almost every event has at most one responsible organisation) instead of a
row plus an audience row, at 100,000 events a second. The visibility rule is therefore not the
sharing app's audience rule but ``feeds.queries.visible_findings``, the only way findings are
read (see its docstring).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from certhub.core.models import TimeStampedModel
from certhub.sharing.tlp import TLP

from . import classification


class SourceKind(models.TextChoices):
    HTTP = "http", _("HTTP(S) URL")
    FILE = "file", _("local file")
    FOLDER = "folder", _("local folder")
    TAXII = "taxii", _("TAXII 2.1 collection")
    MISP_FEED = "misp-feed", _("MISP feed")


class Feed(TimeStampedModel):
    name = models.SlugField(_("name"), max_length=100, unique=True,
                            help_text=_("Short identifier, e.g. urlhaus-asean."))
    title = models.CharField(_("title"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    source_kind = models.CharField(_("source"), max_length=16, choices=SourceKind.choices)
    location = models.CharField(_("URL or path"), max_length=2000,
                                help_text=_("The URL to fetch, or the file or folder to read. "
                                            "For TAXII: the collection's URL (…/collections/"
                                            "<id>/)."))
    collector_params = models.JSONField(_("collector parameters"), default=dict, blank=True)
    schedule = models.CharField(_("schedule"), max_length=100, blank=True,
                                help_text=_("'every 30m', 'every 6h', 'every 1d' or a cron "
                                            "expression (UTC); empty to run only on request."))
    parser = models.CharField(_("parser"), max_length=50)
    parser_params = models.JSONField(_("parser parameters"), default=dict, blank=True)
    taxonomy = models.CharField(_("RSIT taxonomy"), max_length=40, blank=True,
                                help_text=_("Default classification; empty: the parser's."))
    type = models.CharField(_("RSIT type"), max_length=50, blank=True)
    tlp = models.CharField("TLP", max_length=16, choices=TLP.choices, default=TLP.AMBER_STRICT,
                           help_text=_("Label of the findings this feed delivers."))
    dedupe_window_hours = models.PositiveIntegerField(
        _("deduplication window (hours)"), default=24 * 7,
        help_text=_("A value seen again within this window is a duplicate."))
    expiry_days = models.PositiveIntegerField(_("expiry (days)"), default=90,
                                              help_text=_("Findings are removed after this."))
    warninglists = models.BooleanField(_("check warning lists"), default=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Conditional GET state of HTTP sources.
    etag = models.CharField(max_length=300, blank=True, editable=False)
    last_modified = models.CharField(max_length=100, blank=True, editable=False)
    last_started_at = models.DateTimeField(_("last run started"), null=True, blank=True,
                                           editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("feed")
        verbose_name_plural = _("feeds")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .validation import check_feed

        try:
            check_feed(self)
        except Exception as exc:  # InvalidInput → the form's field error
            field = getattr(exc, "field", None)
            message = getattr(exc, "message", str(exc))
            known = {f.name for f in self._meta.fields}
            raise ValidationError({field if field in known else "__all__": message}) from None


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class FeedRun(models.Model):
    """One pass over one input of a feed. ``position`` is the last input line (or record) whose
    findings are committed; it is written in the same transaction as the findings, so a resumed
    run continues exactly after it."""

    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="runs",
                             verbose_name=_("feed"))
    status = models.CharField(_("status"), max_length=16, choices=RunStatus.choices,
                              default=RunStatus.QUEUED, db_index=True)
    trigger = models.CharField(_("started by"), max_length=100, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    # "host:pid" of the process running the current attempt: a run left "running" by a process
    # that no longer exists on this host is resumed at once instead of after STALE_AFTER.
    worker = models.CharField(_("worker"), max_length=300, blank=True, editable=False)
    source = models.CharField(_("source"), max_length=2000, blank=True)
    # What is being read: a spooled download or the feed's own file, and its fingerprint, so a
    # resumed run reads the very same bytes.
    input_path = models.CharField(max_length=2000, blank=True, editable=False)
    input_size = models.BigIntegerField(null=True, blank=True, editable=False)
    input_mtime_ns = models.BigIntegerField(null=True, blank=True, editable=False)
    not_modified = models.BooleanField(_("source not modified"), default=False)
    position = models.BigIntegerField(_("committed position"), default=0)
    total = models.BigIntegerField(_("input size (bytes)"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    read = models.BigIntegerField(_("read"), default=0)
    parsed = models.BigIntegerField(_("parsed"), default=0)
    failed = models.BigIntegerField(_("failed"), default=0)
    duplicates = models.BigIntegerField(_("duplicates"), default=0)
    routed = models.BigIntegerField(_("routed"), default=0)
    unrouted = models.BigIntegerField(_("without a responsible organisation"), default=0)
    routed_per_org = models.JSONField(_("routed per organisation"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = _("feed run")
        verbose_name_plural = _("feed runs")

    def __str__(self) -> str:
        return f"{self.feed} #{self.pk} {self.status}"

    @property
    def finished(self) -> bool:
        return self.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)


class RunError(models.Model):
    """A line that did not become a finding, and why. Never dropped silently."""

    run = models.ForeignKey(FeedRun, on_delete=models.CASCADE, related_name="errors",
                            verbose_name=_("run"))
    line = models.BigIntegerField(_("line"))
    reason = models.CharField(_("reason"), max_length=500)
    raw = models.TextField(_("line as read"), blank=True)

    class Meta:
        ordering = ["run", "line", "pk"]
        verbose_name = _("run error")
        verbose_name_plural = _("run errors")

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class Finding(models.Model):
    """One finding delivered to one organisation's inbox (or to nobody: hub staff only).

    Read only through ``certhub.feeds.queries.visible_findings``. Findings of a run that has not
    succeeded are invisible there, so a half-finished run never shows partial results.
    """

    id = models.BigAutoField(primary_key=True)
    # No database-level constraint on feed and run: checking them for every row of a bulk
    # insert costs more than the rest of the insert. Rows are only written by the pipeline,
    # with the ids of the run it holds; deleting a feed or run cascades through the ORM.
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="+", db_index=False,
                             db_constraint=False, verbose_name=_("feed"))
    # Indexed by migration 0003 with a BRIN index on PostgreSQL (rows of a run are written
    # together: a few bytes per thousand rows instead of a B-tree entry per row).
    run = models.ForeignKey(FeedRun, on_delete=models.CASCADE, related_name="findings",
                            db_constraint=False, db_index=False, verbose_name=_("run"))
    line = models.BigIntegerField(_("line"))
    raw = models.TextField(_("line as read"), blank=True)
    created = models.DateTimeField(_("received"))
    observed_at = models.DateTimeField(_("observed"), null=True, blank=True)
    # Not indexed: expiry is a daily sweep, and each index costs every insert of the pipeline.
    expires_at = models.DateTimeField(_("expires"))
    taxonomy = models.CharField(_("RSIT taxonomy"), max_length=40,
                                choices=classification.taxonomy_choices())
    type = models.CharField(_("RSIT type"), max_length=50, choices=classification.type_choices())
    value_type = models.CharField(_("value type"), max_length=10)
    value = models.TextField(_("value"))
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    port = models.IntegerField(_("port"), null=True, blank=True)
    asn = models.BigIntegerField(_("AS number"), null=True, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    extra = models.JSONField(_("details"), null=True, blank=True)
    warninglists = models.JSONField(_("on warning lists"), null=True, blank=True)
    tlp = models.CharField("TLP", max_length=16, choices=TLP.choices)
    # Deduplication reads the keys from DedupeBlock, not from here (no index to maintain).
    dedupe_key = models.BigIntegerField(_("deduplication key"))
    # No database constraint either (see feed and run): deleting an organisation cascades
    # through the ORM.
    organisation = models.ForeignKey("directory.Organisation", on_delete=models.CASCADE,
                                     null=True, blank=True, related_name="+", db_index=False,
                                     db_constraint=False,
                                     verbose_name=_("responsible organisation"))
    rule = models.CharField(_("routing rule"), max_length=10, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                        null=True, blank=True, related_name="+",
                                        db_index=False, db_constraint=False,
                                        verbose_name=_("acknowledged by"))

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        # The inboxes: only routed rows. Findings nobody is responsible for (most of a regional
        # feed) are listed for hub staff newest first by primary key, and cost no index entry.
        indexes = [models.Index(fields=["organisation", "-created", "-id"],
                                name="feeds_finding_inbox",
                                condition=models.Q(organisation__isnull=False))]

    def __str__(self) -> str:
        return f"{self.type} {self.value}"


class DedupeBlock(models.Model):
    """The deduplication keys one committed batch stored: sorted signed 64-bit integers, packed
    big-endian (8 bytes each). Written in the batch's transaction with its findings.

    A run reads the blocks of its feed within the window once, into one sorted array, and
    then only the blocks committed since (other workers on the same feed): one small query per
    batch instead of an index probe per event and a random-access index on the findings table,
    which cost more than the rest of the insert together.
    """

    id = models.BigAutoField(primary_key=True)
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="+",
                             verbose_name=_("feed"))
    run = models.ForeignKey(FeedRun, on_delete=models.CASCADE, related_name="+",
                            verbose_name=_("run"))
    created = models.DateTimeField(_("created"))
    keys = models.BinaryField(_("keys"))

    class Meta:
        indexes = [models.Index(fields=["feed", "created"], name="feeds_dedupe_feed_created")]
        verbose_name = _("deduplication block")
        verbose_name_plural = _("deduplication blocks")

    def __str__(self) -> str:
        return f"{self.feed_id} run {self.run_id} block {self.pk}"


class RunPart(models.Model):
    """One part of a split run: the input's bytes [byte_start, byte_end), lines first_line to
    last_line. Several workers may each take a part; each part is claimed, fenced (its own
    ``attempts``), committed (``position``: its last committed line) and resumed like a whole
    run. The run holds the counters of all its parts and succeeds when every part has."""

    run = models.ForeignKey(FeedRun, on_delete=models.CASCADE, related_name="parts",
                            verbose_name=_("run"))
    number = models.PositiveIntegerField(_("part"))
    byte_start = models.BigIntegerField(_("first byte"))
    byte_end = models.BigIntegerField(_("end byte"))
    # Bytes of the file's start (a CSV header) a part starting later reads first.
    header_bytes = models.BigIntegerField(default=0, editable=False)
    first_line = models.BigIntegerField(_("first line"))
    last_line = models.BigIntegerField(_("last line"))
    status = models.CharField(_("status"), max_length=16, choices=RunStatus.choices,
                              default=RunStatus.QUEUED, db_index=True)
    position = models.BigIntegerField(_("committed position"), default=0)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    worker = models.CharField(_("worker"), max_length=300, blank=True, editable=False)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"],
                                               name="feeds_runpart_run_number")]
        verbose_name = _("run part")
        verbose_name_plural = _("run parts")

    def __str__(self) -> str:
        return f"{self.run_id}/{self.number} {self.status}"

    @property
    def lines_done(self) -> int:
        """Lines of the part whose findings are committed."""
        return max(0, self.position - self.first_line + 1)
