"""Argument types shared by the command-line tools (setup_bigquery.py, python -m worker)."""

from __future__ import annotations

import argparse


def positive_days(text: str) -> int:
    """A whole number of days, at least 1; argparse shows the message as a usage error."""
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    if days < 1:
        raise argparse.ArgumentTypeError(f"{days} is not a positive number of days")
    return days
