"""The ``certhub`` command: Django's management commands plus certhub's own."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhub.config.settings")
    from django.core.management import execute_from_command_line

    from certhub.config.env import ConfigError

    args = list(sys.argv[1:] if argv is None else argv)
    if args and not args[0].startswith("-"):
        args[0] = args[0].replace("-", "_")  # `certhub demo-code` runs the demo_code command
    try:
        execute_from_command_line(["certhub", *args])
    except ConfigError as exc:
        # A bad environment variable is the operator's to fix: one line, no traceback.
        print(f"certhub: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
