"""The `townsquare` command: Townsquare's own commands and Django's, in one script."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "townsquare.settings")
    from django.core.management import execute_from_command_line

    from townsquare.lib.config import ConfigError

    try:
        execute_from_command_line(["townsquare", *(sys.argv[1:] if argv is None else argv)])
    except ConfigError as e:
        sys.stderr.write(f"townsquare: configuration error: {e}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
