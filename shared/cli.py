"""What the command-line tools (setup_bigquery.py, python -m worker, python -m ui) share: exit
codes, argument types and how a usage error ends."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The command line or the settings ask for something we cannot do; exit code 2."""


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace | int:
    """The parsed arguments, or the exit code when argparse has already answered (usage error: 2,
    --help: 0) after printing its message."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exit_request:
        return int(exit_request.code or 0)


def usage_error(prog: str, message: str) -> int:
    """Prints one usage error line for `prog` and returns the usage exit code."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def positive_days(text: str) -> int:
    """A whole number of days, at least 1; argparse shows the message as a usage error."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if days < 1:
        raise argparse.ArgumentTypeError(f"{days} is not a positive number of days")
    return days
