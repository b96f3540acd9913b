"""certhub resolve VALUE... [--file F] [--json]."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from tests.conftest import add_constituency


def run(*args, stdin: str | None = None, monkeypatch=None) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command("resolve", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def rows(out: str) -> list[list[str]]:
    return [line.split() for line in out.splitlines()]


def test_table_of_values(world):
    add_constituency(world.thai, "prefix", "1.0.128.0/17")
    out, err = run("1.0.128.1", "AS4788", "https://example.gov.sg/", "8.8.8.8")
    table = rows(out)
    assert table[0] == ["VALUE", "KIND", "COUNTRY", "ASN", "RESPONSIBLE", "RULE"]
    assert table[1] == ["1.0.128.1", "ipv4", "TH", "-", "ThaiCERT", "prefix"]
    assert table[2] == ["AS4788", "asn", "-", "AS4788", "MyCERT", "asn"]
    assert table[3] == ["https://example.gov.sg/", "url", "SG", "-", "SingCERT", "domain"]
    assert table[4] == ["8.8.8.8", "ipv4", "US", "-", "-", "-"]
    assert err == ""


def test_malformed_values_exit_1_and_the_others_are_still_printed(world):
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("resolve", "1.0.128.1", "999.1.1.1", "not a value!!", stdout=out,
                     stderr=err)
    assert caught.value.returncode == 1
    assert "2 of 3 values are malformed" in str(caught.value)
    assert "ThaiCERT" in out.getvalue()
    assert "999.1.1.1" in err.getvalue()
    assert "not a value!!" in err.getvalue()


def test_values_from_a_file_and_stdin(world, tmp_path, monkeypatch):
    path = tmp_path / "values.txt"
    path.write_text("# feed export\n1.0.128.1\n\nexample.my\n", encoding="utf-8")
    out, _ = run("--file", str(path))
    assert [row[0] for row in rows(out)[1:]] == ["1.0.128.1", "example.my"]
    out, _ = run("AS4788", "--file", "-", stdin="example.sg\n", monkeypatch=monkeypatch)
    assert [row[4] for row in rows(out)[1:]] == ["MyCERT", "SingCERT"]


def test_json_output_includes_errors(world):
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("resolve", "example.co.th", "AS99999999999", "--json", stdout=out,
                     stderr=io.StringIO())
    data = json.loads(out.getvalue())
    assert data[0]["matches"][0]["short_name"] == "ThaiCERT"
    assert data[0]["matches"][0]["why"]
    assert data[1]["error"]


def test_no_values_and_unreadable_file_are_errors(world, tmp_path):
    with pytest.raises(CommandError, match="at least one value"):
        run()
    with pytest.raises(CommandError, match="Cannot read"):
        run("--file", str(tmp_path / "missing.txt"))
