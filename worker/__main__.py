"""Command line for the clickstream: report, export and prune.

    python -m worker report [--sink local|bigquery] [--format table|json|csv] [--days N]
                            [--experiment NAME]
    python -m worker export --format csv|jsonl [--output FILE]
    python -m worker prune [--days N]

Settings come from the HL_VOX_* environment variables, as for the app. Exit codes: 0 success,
1 failure, 2 usage error (bad arguments or settings).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sqlite3
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TextIO

from shared import experiments
from shared.cli import EXIT_FAILURE, EXIT_OK, UsageError, parse_args, positive_days, usage_error
from shared.settings import SINKS, Settings, SettingsError
from shared.spreadsheet import csv_writer, safe_row
from worker import experiment_report, retention
from worker import export as export_module
from worker import report as report_module

PROG = "python -m worker"
REPORT_FORMATS = ("table", "json", "csv")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(_parser(), argv)
    if isinstance(args, int):
        return args
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        return int(args.command(args, settings))
    except (UsageError, SettingsError) as error:
        return usage_error(PROG, str(error))
    except (report_module.ReportError, OSError, sqlite3.Error) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=(__doc__ or "").split("\n")[0])
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    report = commands.add_parser("report", help="the clickstream questions, or one experiment")
    report.add_argument("--sink", choices=SINKS, help="where to ask (default: HL_VOX_SINK)")
    report.add_argument("--format", choices=REPORT_FORMATS, default="table")
    report.add_argument("--days", type=positive_days, metavar="N",
                        help="only events of the last N days (default: all)")
    report.add_argument("--experiment", metavar="NAME",
                        help="compare the variants of this A/B experiment instead")
    report.set_defaults(command=_report)

    export = commands.add_parser("export", help="write the local store's events to a file")
    export.add_argument("--format", choices=export_module.FORMATS, required=True)
    export.add_argument("--output", type=Path, metavar="FILE", help="default: standard output")
    export.set_defaults(command=_export)

    prune = commands.add_parser("prune", help="delete delivered events older than N days")
    prune.add_argument("--days", type=positive_days, metavar="N",
                       help=f"default: HL_VOX_RETENTION_DAYS ({Settings.retention_days})")
    prune.set_defaults(command=_prune)
    return parser


def _report(args: argparse.Namespace, settings: Settings) -> int:
    if args.experiment is not None:
        return _experiment(args, settings)
    if _sink(args, settings) == "bigquery":
        answers = report_module.bigquery_report(settings, args.days)
    else:
        answers = report_module.local_report(settings.store_path, args.days)
    _print_report(answers, args.format, sys.stdout)
    return EXIT_OK


def _sink(args: argparse.Namespace, settings: Settings) -> str:
    sink: str = args.sink or settings.sink
    if sink == "bigquery":
        _check_bigquery_settings(settings)
    return sink


def _experiment(args: argparse.Namespace, settings: Settings) -> int:
    try:
        question = experiment_report.question(args.experiment)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if _sink(args, settings) == "bigquery":
        rows = report_module.ask_bigquery(settings, [question], args.days)[question.name]
    else:
        rows = report_module.ask_local(settings.store_path, [question], args.days)[question.name]
    result = experiment_report.compare(args.experiment, rows, _declared_variants(settings, args.experiment))
    out = sys.stdout
    if args.format == "json":
        json.dump(result.as_dict(), out, indent=2)
        out.write("\n")
        return EXIT_OK
    table = [dataclasses.asdict(figures) for figures in result.variants]
    _write_block(out, args.format, f"experiment_{result.experiment}", f"Experiment {result.experiment}",
                 experiment_report.COLUMNS, table)
    for comparison in result.comparisons:
        out.write(f"{'# ' if args.format == 'csv' else ''}{comparison.variant} vs {comparison.control}: "
                  f"{comparison.verdict}\n")
    return EXIT_OK


def _declared_variants(settings: Settings, name: str) -> list[str]:
    """The experiment's variants in the order of the experiments file (the first is the control);
    empty when the file no longer declares it."""
    try:
        declared = experiments.load(settings.experiments_path)
    except experiments.ExperimentsError:
        return []
    return next(([v.name for v in e.variants] for e in declared if e.name == name), [])


def _check_bigquery_settings(settings: Settings) -> None:
    problems = settings.bigquery_problems()
    if problems:
        raise UsageError("; ".join(problems))


def _print_report(answers: report_module.Report, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump(answers, out, indent=2)
        out.write("\n")
        return
    for index, question in enumerate(report_module.QUESTIONS):
        rows = answers[question.name]
        if index:
            out.write("\n")
        _write_block(out, fmt, question.name, question.title, question.columns, rows)


def _write_block(out: TextIO, fmt: str, name: str, title: str, columns: Sequence[str],
                 rows: Sequence[Mapping[str, object]]) -> None:
    """One answer: a CSV block under a "# name" line, or an aligned table under its title."""
    if fmt == "csv":
        out.write(f"# {name}\n")
        writer = csv_writer(out)
        writer.writerow(columns)
        writer.writerows(safe_row(row[column] for column in columns) for row in rows)
    else:
        out.write(f"{title}\n")
        out.write(_table(columns, rows))


def _table(columns: Sequence[str], rows: Sequence[Mapping[str, object]]) -> str:
    """Aligned text: numbers to the right, text to the left."""
    cells = [[str(row[column]) for column in columns] for row in rows]
    widths = [max([len(column)] + [len(line[i]) for line in cells]) for i, column in enumerate(columns)]
    numeric = [bool(rows) and all(isinstance(row[column], int | float) for row in rows) for column in columns]

    def line(values: Sequence[str]) -> str:
        return "  ".join(value.rjust(width) if right else value.ljust(width)
                         for value, width, right in zip(values, widths, numeric, strict=True)).rstrip() + "\n"

    text = line(columns) + line(["-" * width for width in widths])
    return text + ("".join(line(values) for values in cells) if cells else "(no events)\n")


def _export(args: argparse.Namespace, settings: Settings) -> int:
    if args.output is None:
        export_module.export(settings.store_path, args.format, sys.stdout)
        return EXIT_OK
    # Written next to FILE and renamed at the end, so a failure never leaves a half or empty FILE.
    partial = args.output.with_name(args.output.name + ".partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="") as out:
            written = export_module.export(settings.store_path, args.format, out)
        partial.replace(args.output)
    finally:
        partial.unlink(missing_ok=True)
    print(f"exported {written} event(s) to {args.output}", file=sys.stderr)
    return EXIT_OK


def _prune(args: argparse.Namespace, settings: Settings) -> int:
    days = args.days or settings.retention_days
    pruned = retention.prune(settings.store_path, days)
    print(f"pruned {pruned} delivered event(s) older than {days} day(s) "
          f"from {settings.store_path}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
