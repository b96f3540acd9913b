"""The Makefile and .ci/run: the README's commands, and verdicts that cannot read as a pass."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("CERTHUB_", "MAKE"))}
    return subprocess.run(["make", "-s", "-C", str(ROOT), f"TEST_DIR={tmp_path}", *args],
                          capture_output=True, text=True, timeout=300, env=environment,
                          check=False)


def test_ci_script_is_executable_bash_that_runs_make_test():
    script = ROOT / ".ci" / "run"
    assert os.access(script, os.X_OK)
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)
    text = script.read_text()
    assert "make -k test" in text
    assert "DATABASE_URL=postgres://" in text


@needs_make
def test_make_test_runs_lint_then_both_databases(tmp_path):
    result = make("-n", "test", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    plan = result.stdout
    steps = ["ruff check", "lint-imports", "makemigrations --check --dry-run",
             "tests on SQLite", "_pytest-postgres"]
    positions = [plan.find(step) for step in steps]
    assert -1 not in positions, plan
    assert positions == sorted(positions), plan


@needs_make
def test_a_run_that_collects_nothing_is_a_failure(tmp_path):
    result = make("_pytest-postgres", "PYTEST_ARGS=tests/infra/test_docs.py -k no_such_test",
                  tmp_path=tmp_path)
    assert result.returncode != 0
    summary = (tmp_path / "summary-postgres.txt").read_text()
    assert summary.strip() == "PostgreSQL: FAILED: no tests were collected"


@needs_make
def test_a_passing_run_records_its_verdict(tmp_path):
    result = make("_pytest-postgres", "PYTEST_ARGS=tests/infra/test_docs.py", tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "summary-postgres.txt").read_text().strip() == "PostgreSQL: passed"
