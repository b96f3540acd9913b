"""Strict parsers for configuration read from the environment.

This module and settings.py are the only places that read ``os.environ``. Every variable is
declared in ``VARIABLES`` so that docs/configuration.md and ``certhub check`` can list them all.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path


class ConfigError(ValueError):
    """A configuration variable holds a value that cannot be used."""


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    help: str


VARIABLES: dict[str, Variable] = {}


def declare(name: str, default: str, help: str) -> str:
    VARIABLES[name] = Variable(name, default, help)
    return os.environ.get(name, default)


def as_bool(name: str, default: bool, help: str) -> bool:
    raw = declare(name, "true" if default else "false", help).strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def as_int(name: str, default: int, help: str) -> int:
    raw = declare(name, str(default), help)
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def as_list(name: str, default: str, help: str) -> list[str]:
    return [item.strip() for item in declare(name, default, help).split(",") if item.strip()]


def secret_key(data_dir: Path) -> str:
    """The configured secret, or one generated on first start and kept in the data folder."""
    configured = declare(
        "CERTHUB_SECRET_KEY", "", "Django secret key. When unset, one is generated once and kept "
        "in CERTHUB_DATA_DIR/secret_key (mode 0600)."
    )
    if configured:
        if len(configured) < 32:
            raise ConfigError("CERTHUB_SECRET_KEY must be at least 32 characters long")
        return configured
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: two processes starting at once must not each write a different key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
