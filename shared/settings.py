"""Settings from HL_VOX_* environment variables, validated with errors that name the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from shared.bq_names import id_problems

APP_DIR_NAME = "hl-vox-timeleft"
SINKS = ("local", "bigquery")
# How the bigquery sink writes: the Storage Write API, batch load jobs, or legacy insertAll.
BQ_METHODS = ("storage_write", "load", "insert_all")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


def default_data_dir() -> Path:
    """The OS's per-user data folder for the app: ~/.local/share/hl-vox-timeleft on Linux (or under
    $XDG_DATA_HOME), ~/Library/Application Support/hl-vox-timeleft on macOS,
    %LOCALAPPDATA%\\hl-vox-timeleft on Windows."""
    return Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Every setting with its default; the defaults here are the only ones."""

    enabled: bool = True
    sink: str = "local"
    bq_project: str | None = None
    bq_dataset: str = "hl_timeleft"
    bq_table: str = "clickstream"
    bq_location: str = "US"
    bq_endpoint: str | None = None
    bq_method: str = "storage_write"
    bq_grpc_endpoint: str | None = None  # host:port of a Storage Write API emulator
    bq_load_interval: float = 300.0  # seconds between load jobs (method "load")
    batch_size: int = 10
    flush_interval: float = 2.0
    data_dir: Path = field(default_factory=default_data_dir)
    sound_dir: Path | None = None
    experiments_path: Path | None = None  # None: the experiments file that ships with the app
    retention_days: int = 30
    # A web session whose tab went away ends this many seconds later unless the tab comes back
    # (a reload, a dropped network); long enough for a laptop lid, short enough to count a closed
    # tab's session as over soon after.
    web_grace_seconds: float = 60.0

    @property
    def store_path(self) -> Path:
        """The local SQLite store: spool, local sink table and quarantine."""
        return self.data_dir / "clickstream.sqlite3"

    @property
    def table_id(self) -> str:
        return f"{self.bq_project}.{self.bq_dataset}.{self.bq_table}"

    def bigquery_problems(self) -> list[str]:
        """What keeps these settings from reaching a BigQuery table; empty when nothing does."""
        if not self.bq_project:
            return ["HL_VOX_BQ_PROJECT must be set to use BigQuery (your Google Cloud project id)"]
        return [f"HL_VOX_BQ_*: {problem}"
                for problem in id_problems(self.bq_project, self.bq_dataset, self.bq_table)]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, check_sink: bool = True) -> Settings:
        """Settings from the environment. check_sink=False skips checking the BigQuery ids for a
        caller that takes them from elsewhere too (setup_bigquery.py's flags)."""
        env = os.environ if env is None else env
        default = cls(data_dir=Path("."))  # data_dir's default is found below, only if needed
        settings = cls(
            enabled=_bool(env, "HL_VOX_CLICKSTREAM_ENABLED", default.enabled),
            sink=_choice(env, "HL_VOX_SINK", SINKS, default.sink),
            bq_project=_text(env, "HL_VOX_BQ_PROJECT"),
            bq_dataset=_text(env, "HL_VOX_BQ_DATASET") or default.bq_dataset,
            bq_table=_text(env, "HL_VOX_BQ_TABLE") or default.bq_table,
            bq_location=_text(env, "HL_VOX_BQ_LOCATION") or default.bq_location,
            bq_endpoint=_text(env, "HL_VOX_BQ_ENDPOINT"),
            bq_method=_choice(env, "HL_VOX_BQ_METHOD", BQ_METHODS, default.bq_method),
            bq_grpc_endpoint=_host_port(env, "HL_VOX_BQ_GRPC_ENDPOINT"),
            bq_load_interval=_float(env, "HL_VOX_BQ_LOAD_INTERVAL", default.bq_load_interval,
                                    low=1.0, high=86400.0),
            batch_size=_int(env, "HL_VOX_BATCH_SIZE", default.batch_size, low=1, high=500),
            flush_interval=_float(env, "HL_VOX_FLUSH_INTERVAL", default.flush_interval,
                                  low=0.05, high=3600.0),
            data_dir=_path(env, "HL_VOX_DATA_DIR") or default_data_dir(),
            sound_dir=_path(env, "HL_VOX_SOUND_DIR"),
            experiments_path=_existing_file(env, "HL_VOX_EXPERIMENTS"),
            retention_days=_int(env, "HL_VOX_RETENTION_DAYS", default.retention_days,
                                low=1, high=3650),
            web_grace_seconds=_float(env, "HL_VOX_WEB_GRACE_SECONDS", default.web_grace_seconds,
                                     low=1.0, high=86400.0),
        )
        if check_sink and settings.enabled and settings.sink == "bigquery":
            problems = settings.bigquery_problems()
            if problems:
                raise SettingsError("; ".join(problems))
        return settings


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _path(env: Mapping[str, str], name: str) -> Path | None:
    value = _text(env, name)
    return Path(value).expanduser() if value else None


def _existing_file(env: Mapping[str, str], name: str) -> Path | None:
    path = _path(env, name)
    if path is not None and not path.is_file():
        raise SettingsError(f"{name}={str(path)!r} is not a file")
    return path


def _host_port(env: Mapping[str, str], name: str) -> str | None:
    """A gRPC target: host:port, no scheme (gRPC channels take no URL)."""
    value = _text(env, name)
    if value is None:
        return None
    host, _, port = value.rpartition(":")
    if not host or "/" in value or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"{name}={value!r} is not host:port, e.g. 127.0.0.1:9060")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = _text(env, name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise SettingsError(f"{name}={value!r} is not a boolean: use true or false")


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = (_text(env, name) or default).lower()
    if value not in choices:
        raise SettingsError(f"{name}={value!r} is not one of: {', '.join(choices)}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    return int(_number(env, name, default, low, high, int, "a whole number", ""))


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    return _number(env, name, default, low, high, float, "a number of seconds", " seconds")


def _number(env: Mapping[str, str], name: str, default: float, low: float, high: float,
            parse: type, kind: str, unit: str) -> float:
    value = _text(env, name)
    if value is None:
        return default
    try:
        number = parse(value)
    except ValueError:
        raise SettingsError(f"{name}={value!r} is not {kind}") from None
    if not low <= number <= high:  # also rejects nan
        raise SettingsError(f"{name}={number} is out of range: use {low} to {high}{unit}")
    return number
