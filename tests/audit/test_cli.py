"""certhub audit verify / list."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from certhub.audit.models import AuditEntry
from certhub.cli.management.commands.audit import Command

from .conftest import tampering


def run(*args) -> tuple[int, str, str]:
    """Run like the console script does: CommandError becomes exit status 1."""
    out, err = io.StringIO(), io.StringIO()
    command = Command(stdout=out, stderr=err)
    try:
        command.run_from_argv(["certhub", "audit", *args])
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch):
    # run_from_argv closes database connections when it ends; the test transaction needs ours.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)


def test_verify_passes_on_an_intact_chain(chain):
    status, out, _ = run("verify")
    assert status == 0
    assert out.strip() == "5 entries, chain intact"


def test_verify_fails_and_names_an_edited_row(chain):
    with tampering():
        AuditEntry.objects.filter(seq=2).update(object_repr="Nothing to see")
    status, _, err = run("verify")
    assert status == 1
    assert "entry #2 was altered after it was written" in err
    assert "1 problem(s) in 5 entries" in err


def test_verify_fails_on_a_deleted_row(chain):
    with tampering():
        AuditEntry.objects.filter(seq=4).delete()
    with pytest.raises(CommandError):
        call_command("audit", "verify", stdout=io.StringIO(), stderr=io.StringIO())


def test_list_shows_the_latest_entries_newest_first(chain, world):
    status, out, _ = run("list", "--limit", "2")
    assert status == 0
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("#5 ")
    assert world.hub_admin.email in lines[0]
    assert lines[1].startswith("#4 ")
    assert "view_red directory.contact#9 Red contact" in lines[1]


def test_list_rejects_a_bad_limit(chain):
    status, _, err = run("list", "--limit", "0")
    assert status == 1
    assert "--limit" in err
