"""The ``certhub`` command: Django's management commands plus certhub's own."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhub.config.settings")
    from django.core.management import execute_from_command_line

    from certhub.config.env import ConfigError

    try:
        execute_from_command_line(["certhub", *(sys.argv[1:] if argv is None else argv)])
    except ConfigError as exc:
        # A bad environment variable is the operator's to fix: one line, no traceback.
        print(f"certhub: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
