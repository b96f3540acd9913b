"""The certhub command as an operator meets it: configuration errors, check, serve, secret key."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CERTHUB = [sys.executable, "-m", "certhub.cli.main"]


def run(args, data_dir: Path, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CERTHUB_")
                   and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    environment.update({"CERTHUB_DATA_DIR": str(data_dir), **env})
    return subprocess.run([*CERTHUB, *args], capture_output=True, text=True, timeout=120,
                          env=environment, check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unparseable_setting_is_one_line_and_exit_2(tmp_path):
    result = run(["check"], tmp_path, CERTHUB_DEBUG="maybe")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "certhub: configuration error: CERTHUB_DEBUG must be true or false, not 'maybe'")
    assert "Traceback" not in result.stderr


def test_check_passes_on_a_sane_configuration(tmp_path):
    result = run(["check"], tmp_path)
    assert result.returncode == 0, result.stderr


def test_check_reports_missing_data_file_and_unreachable_database(tmp_path):
    result = run(["check"], tmp_path, CERTHUB_ASN_DB=str(tmp_path / "missing.tsv"),
                 DATABASE_URL="postgres://postgres@127.0.0.1:1/nothing")
    assert result.returncode == 1
    assert "certhub.E001" in result.stderr
    assert "cannot connect to the database" in result.stderr
    assert "certhub.E003" in result.stderr
    assert "missing.tsv" in result.stderr


def test_check_reports_unreachable_broker(tmp_path):
    result = run(["check"], tmp_path, CERTHUB_BROKER_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 1
    assert "certhub.E004" in result.stderr


def test_secret_key_is_created_once_and_kept_private(tmp_path):
    assert run(["check"], tmp_path).returncode == 0
    key_file = tmp_path / "secret_key"
    first = key_file.read_text()
    assert len(first) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert run(["check"], tmp_path).returncode == 0
    assert key_file.read_text() == first


def test_serve_runs_the_production_server_with_debug_off(tmp_path):
    assert run(["migrate", "--verbosity", "0"], tmp_path).returncode == 0
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CERTHUB_")
                   and k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    environment["CERTHUB_DATA_DIR"] = str(tmp_path)
    server = subprocess.Popen([*CERTHUB, "serve", "--port", str(port), "--workers", "1"],
                              env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        body = None
        deadline = time.monotonic() + 180  # collectstatic compresses every file first
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json",
                                            timeout=5) as response:
                    body = response.read()
                    headers = response.headers
                break
            except OSError:
                time.sleep(0.3)
        assert body is not None, "server did not answer"
        assert b'"openapi"' in body
        assert "gunicorn" in headers.get("Server", "")
        # Static files come from the collected, hashed manifest (DEBUG off).
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/",
                                    timeout=5) as response:
            page = response.read().decode()
        assert "/static/web/certhub." in page
        css = page.split('href="/static/web/certhub.')[1].split('"')[0]
        assert css.count(".") == 1, "expected a hashed file name (ManifestStaticFilesStorage)"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/web/certhub.{css}",
                                    timeout=5) as response:
            assert response.status == 200
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1"])
def test_serve_refuses_debug_on_a_public_address(tmp_path, host):
    result = run(["serve", "--host", host], tmp_path, CERTHUB_DEBUG="true")
    assert result.returncode == 1
    assert "refusing to serve" in result.stderr


def test_check_reports_unsafe_web_settings(tmp_path):
    result = run(["check"], tmp_path, CERTHUB_ALLOWED_HOSTS="",
                 CERTHUB_SITE_URL="https://hub.example.org")
    assert result.returncode == 1
    assert "certhub.E005" in result.stderr  # no host allowed: every request refused
    assert "certhub.W001" in result.stderr  # https site without CERTHUB_TLS
