"""Command line: `python -m ui` (desktop window) or `python -m ui --web` (web server).

The clickstream uploader starts before the UI and is shut down (joined, at most 5 s) after the UI
has returned, so the last events of the session are on their way before the process exits.

The web server keeps its own store (the default data folder's `web/` subfolder) apart from the
desktop app's, so the owner's desktop Stats never show visitors and no visitor ever reads the
desktop's events; an explicit HL_VOX_DATA_DIR is used as given by either.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import sys

from flet.utils import is_linux_server

from shared.cli import EXIT_OK, EXIT_USAGE
from shared.experiments import ExperimentsError
from shared.experiments import load as load_experiments
from shared.settings import Settings, SettingsError, default_data_dir
from ui.address import address_problem, port_number
from ui.app import run_app
from ui.variant import usable
from worker import ClickstreamTracker, stop_trackers_on_signals

log = logging.getLogger("ui")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8550
WEB_DATA_SUBDIR = "web"  # the web server's store, inside the default data folder
EXIT_BUDGET = 5.0  # seconds the uploader gets to deliver or spool what is left


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="hl-timeleft", description="Half-Life themed countdown timer with a VOX announcer.")
    parser.add_argument("--web", action="store_true",
                        help="serve the app to browsers instead of opening a window")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"with --web: address to bind (default {DEFAULT_HOST}; 0.0.0.0 for all)")
    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT,
                        help=f"with --web: port to serve on (default {DEFAULT_PORT})")
    parser.add_argument("--stats-all", action="store_true",
                        help="with --web: every visitor's Stats show the whole store, all sessions "
                             "(default: each visitor sees only their own); for a server only you use")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging for the app")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.verbose:
        logging.getLogger("ui").setLevel(logging.DEBUG)
    # `flet run --web` asks for the web server through the environment.
    web = args.web or os.environ.get("FLET_FORCE_WEB_SERVER", "").lower() == "true"
    if not web and is_linux_server():
        # Flet would silently turn into a web server on port 8000 instead of opening a window.
        log.error("No display found (DISPLAY is not set), so no window can open. "
                  "Serve the app to a browser instead: python -m ui --web")
        return EXIT_USAGE
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        log.error("Bad setting: %s", error)
        return EXIT_USAGE
    try:
        experiments = usable(load_experiments(settings.experiments_path))
    except ExperimentsError as error:
        log.error("Bad experiments file: %s", error)
        return EXIT_USAGE
    if web and (problem := address_problem(args.host, args.port)):
        log.error("%s", problem)
        return EXIT_USAGE
    if web:
        settings = web_settings(settings)
    tracker = ClickstreamTracker(settings).start()
    # SIGTERM, or Ctrl+C before Flet takes it over, still ends with the bounded flush.
    stop_trackers_on_signals()
    try:
        run_app(tracker, web=web, host=args.host, port=args.port, stats_all=args.stats_all,
                experiments=experiments)
    except KeyboardInterrupt:
        pass  # Ctrl+C during start-up or after Flet gave its handler back: still exit cleanly
    finally:
        # Flet leaves its own handlers behind on a closed event loop: a second Ctrl+C or SIGTERM
        # would break the shutdown. It is bounded (EXIT_BUDGET), so the signals wait for it.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        tracker.shutdown(EXIT_BUDGET)
        log.info("clickstream: %s", _summary(tracker.get_stats()))
    return EXIT_OK


def web_settings(settings: Settings) -> Settings:
    """The web server's settings: the default data folder becomes its `web/` subfolder."""
    if settings.data_dir != default_data_dir():
        return settings
    return dataclasses.replace(settings, data_dir=settings.data_dir / WEB_DATA_SUBDIR)


def _summary(stats: dict[str, object]) -> str:
    return ", ".join(f"{key}={stats.get(key)}" for key in ("sent", "spooled", "dropped", "failed"))


if __name__ == "__main__":
    sys.exit(main())
