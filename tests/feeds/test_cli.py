"""certhub feeds load/list/run/runs/errors and certhub ingest; bad input exits with code 1."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from certhub.feeds import queries
from certhub.feeds.models import Feed, Finding

from .conftest import SAMPLES

pytestmark = pytest.mark.django_db

YAML = f"""
feeds:
  - name: urlhaus-asean
    title: URLhaus for the region
    source: file
    location: {SAMPLES / "urlhaus_country.csv"}
    parser: urlhaus-csv
    parser_params: {{online_only: false}}
    schedule: every 1h
    tlp: amber
    dedupe_window_hours: 48
  - name: sinkhole
    source: file
    location: {SAMPLES / "2025-03-02-event4_sinkhole_http-asean-geo.csv"}
    parser: shadowserver-csv
"""


def test_load_list_run(world, tmp_path, capsys):
    definitions = tmp_path / "feeds.yaml"
    definitions.write_text(YAML, encoding="utf-8")
    call_command("feeds", "load", str(definitions))
    assert "2 feeds created, 0 updated" in capsys.readouterr().out
    feed = Feed.objects.get(name="urlhaus-asean")
    assert (feed.schedule, feed.tlp, feed.dedupe_window_hours) == ("every 1h", "amber", 48)
    definitions.write_text(YAML.replace("    schedule: every 1h\n", ""), encoding="utf-8")
    call_command("feeds", "load", str(definitions))
    assert "0 feeds created, 2 updated" in capsys.readouterr().out
    assert Feed.objects.get(name="urlhaus-asean").schedule == ""  # left out: back to default
    definitions.write_text(YAML, encoding="utf-8")
    call_command("feeds", "load", str(definitions))
    capsys.readouterr()
    call_command("feeds", "list")
    assert "urlhaus-asean  file  urlhaus-csv  every 1h" in capsys.readouterr().out
    call_command("feeds", "run", "urlhaus-asean", "--no-progress")
    out = capsys.readouterr().out
    assert "succeeded: read 8, failed 2, duplicates 1, routed 3" in out
    assert "ThaiCERT=1" in out
    assert queries.inbox(world.thai_analyst).count() == 1
    call_command("feeds", "runs", "urlhaus-asean")
    assert "succeeded" in capsys.readouterr().out
    run = feed.runs.get()
    call_command("feeds", "errors", str(run.pk))
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("15: ")
    assert out.splitlines()[1].startswith("16: ")


def test_load_refuses_bad_definitions_atomically(db, tmp_path):
    definitions = tmp_path / "feeds.yaml"
    definitions.write_text(YAML.replace("parser: shadowserver-csv", "parser: nope"), "utf-8")
    with pytest.raises(CommandError, match="nope is not a parser"):
        call_command("feeds", "load", str(definitions))
    assert not Feed.objects.exists()
    definitions.write_text("feeds: [unclosed", "utf-8")
    with pytest.raises(CommandError, match="not valid YAML"):
        call_command("feeds", "load", str(definitions))
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("feeds", "load", str(tmp_path / "missing.yaml"))
    with pytest.raises(CommandError, match="no feed"):
        call_command("feeds", "run", "missing")


def test_ingest(world, capsys):
    call_command("ingest", str(SAMPLES / "feodo_ipblocklist.csv"), "--parser", "feodo-csv",
                 "--no-progress")
    assert "read 4, failed 1, duplicates 0, routed 2" in capsys.readouterr().out
    assert Feed.objects.get().name == "ingest-feodo-csv"
    call_command("ingest", str(SAMPLES / "feodo_ipblocklist.json"), "--parser", "feodo-json",
                 "--feed", "c2", "--param", "online_only=true", "--no-progress")
    assert "read 2, failed 0, duplicates 0, routed 1" in capsys.readouterr().out
    assert Finding.objects.filter(feed__name="c2").count() == 2


def test_ingest_bad_input(db, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("ingest", str(tmp_path / "none.csv"), "--parser", "feodo-csv")
    with pytest.raises(CommandError, match="name=value"):
        call_command("ingest", str(SAMPLES / "feodo_ipblocklist.csv"), "--parser", "feodo-csv",
                     "--param", "online_only")
    with pytest.raises(CommandError, match=r"true or false"):
        call_command("ingest", str(SAMPLES / "feodo_ipblocklist.csv"), "--parser", "feodo-csv",
                     "--param", "online_only=perhaps")
