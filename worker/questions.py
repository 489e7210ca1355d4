"""The report's questions, each written for BigQuery and for the local SQLite store.

Both versions of a question return the same columns with the same values: timestamps as ISO-8601 UTC
text with microseconds, days as YYYY-MM-DD (UTC), counts and hours as integers, milliseconds rounded
to 0.1, so a report from either source compares equal. Each reads a CTE `events`; the BigQuery one
takes the parameters @since (TIMESTAMP) and @today (DATE), the SQLite one :since (microseconds) and
:today (text), and its `events` has an integer `micros` column. The questions never filter by
session themselves: the local report narrows `events` to one session (SQLITE_SESSION_EVENTS).
"""

from __future__ import annotations

from dataclasses import dataclass

from worker.store import EVENTS_WITH_MICROS


@dataclass(frozen=True)
class Question:
    name: str
    title: str
    columns: tuple[str, ...]
    bigquery_sql: str
    sqlite_sql: str


BIGQUERY_EVENTS = "WITH events AS (SELECT * FROM `{table_id}` WHERE timestamp >= @since)\n"
SQLITE_EVENTS = f"WITH events AS (SELECT * FROM ({EVENTS_WITH_MICROS}) WHERE micros >= :since)\n"
# One session's events only (:session_id): what a web visitor's Stats view may show of the store.
SQLITE_SESSION_EVENTS = (f"WITH events AS (SELECT * FROM ({EVENTS_WITH_MICROS}) "
                         f"WHERE micros >= :since AND session_id = :session_id)\n")
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%E6S+00:00"
_BIGQUERY_DAY = "FORMAT_DATE('%Y-%m-%d', DATE(timestamp))"
_SQLITE_DAY = "date(micros / 1000000, 'unixepoch')"


def _sqlite_iso(micros: str) -> str:
    """SQL formatting integer microseconds like BigQuery's FORMAT_TIMESTAMP(_ISO_FORMAT, ...)."""
    return (f"strftime('%Y-%m-%dT%H:%M:%S', {micros} / 1000000, 'unixepoch') "
            f"|| printf('.%06d+00:00', {micros} % 1000000)")


def bigquery_scalar(path: str) -> str:
    return f"JSON_EXTRACT_SCALAR(metadata, '{path}')"


def sqlite_scalar(path: str) -> str:
    """SQLite for BigQuery's JSON_EXTRACT_SCALAR: strings as they are, numbers and booleans as their
    JSON text, NULL for objects, arrays, null and text that is not JSON (json_extract would give 5,
    1 and '{...}', so the types are mapped)."""
    return f"""(CASE WHEN json_valid(metadata) THEN
    CASE json_type(metadata, '{path}')
        WHEN 'text' THEN metadata ->> '{path}'
        WHEN 'integer' THEN metadata -> '{path}'
        WHEN 'real' THEN metadata -> '{path}'
        WHEN 'true' THEN 'true'
        WHEN 'false' THEN 'false'
    END
END)"""


def _bigquery_number(path: str, sql_type: str = "FLOAT64") -> str:
    """A JSON number at `path` as `sql_type`; NULL for strings ("12"), booleans and the rest, and for
    metadata that is not JSON. The JSON type is checked, not the text: casting the scalar text alone
    would also take "12" and, on some engines, true."""
    return (f"IF(JSON_TYPE(JSON_QUERY(SAFE.PARSE_JSON(metadata), '{path}')) = 'number', "
            f"SAFE_CAST(JSON_EXTRACT_SCALAR(metadata, '{path}') AS {sql_type}), NULL)")


def _sqlite_number(path: str) -> str:
    return (f"(CASE WHEN json_valid(metadata) AND json_type(metadata, '{path}') IN ('integer', 'real') "
            f"THEN CAST(metadata -> '{path}' AS REAL) END)")


def _percentiles(name: str, title: str, event_type: str, path: str, count_column: str,
                 unit: str) -> Question:
    """Median and 95th percentile of a metadata number per UTC day, interpolated as BigQuery's
    PERCENTILE_CONT does (SQLite has no percentile function: ranks and interpolation by hand)."""
    columns = ("day", count_column, f"median_{unit}", f"p95_{unit}")
    bigquery = f"""SELECT day, COUNT(*) AS {columns[1]}, ROUND(MAX(p50), 1) AS {columns[2]},
    ROUND(MAX(p95), 1) AS {columns[3]}
FROM (SELECT day, value,
        PERCENTILE_CONT(value, 0.5) OVER (PARTITION BY day) AS p50,
        PERCENTILE_CONT(value, 0.95) OVER (PARTITION BY day) AS p95
      FROM (SELECT {_BIGQUERY_DAY} AS day, {_bigquery_number(path)} AS value
            FROM events WHERE event_type = '{event_type}')
      WHERE value IS NOT NULL)
GROUP BY day
ORDER BY day"""
    ranked = f"""(SELECT day, value, ROW_NUMBER() OVER (PARTITION BY day ORDER BY value) - 1 AS rank,
        COUNT(*) OVER (PARTITION BY day) AS n
      FROM (SELECT {_SQLITE_DAY} AS day, {_sqlite_number(path)} AS value
            FROM events WHERE event_type = '{event_type}')
      WHERE value IS NOT NULL)"""

    def at(fraction: str) -> str:
        position = f"((n - 1) * {fraction})"
        low = f"CAST({position} AS INTEGER)"
        low_value = f"MAX(CASE WHEN rank = {low} THEN value END)"
        high_value = f"MAX(CASE WHEN rank = MIN({low} + 1, n - 1) THEN value END)"
        return f"ROUND({low_value} + ({position} - {low}) * ({high_value} - {low_value}), 1)"

    sqlite = f"""SELECT day, n AS {columns[1]}, {at('0.5')} AS {columns[2]}, {at('0.95')} AS {columns[3]}
FROM {ranked}
GROUP BY day, n
ORDER BY day"""
    return Question(name, title, columns, bigquery, sqlite)


_CLICKS_SQL = """SELECT component, COUNT(*) AS click_count
FROM events
WHERE event_type = 'button_click'
GROUP BY component
ORDER BY click_count DESC, component"""

_WEAPONS_SQL = """SELECT {weapon} AS weapon, COUNT(*) AS usage_count
FROM events
WHERE component IN ('shoot_gun_button', 'weapon_dropdown') AND {weapon} IS NOT NULL
GROUP BY weapon
ORDER BY usage_count DESC, weapon"""

_ERRORS_SQL = """SELECT {error} AS error, {place} AS place, component, SUM({count}) AS error_count
FROM events
WHERE event_type = 'app_error'
GROUP BY error, place, component
ORDER BY error_count DESC, error, place, component"""

# The clickstream document's four questions: what the Stats view shows.
CLICKSTREAM_QUESTIONS: tuple[Question, ...] = (
    Question("clicks_by_component", "Clicks by component", ("component", "click_count"),
             _CLICKS_SQL, _CLICKS_SQL),
    Question(
        "sessions", "Sessions",
        ("session_id", "session_start", "session_end", "session_duration_sec", "total_events"),
        f"""SELECT session_id,
    FORMAT_TIMESTAMP('{_ISO_FORMAT}', MIN(timestamp)) AS session_start,
    FORMAT_TIMESTAMP('{_ISO_FORMAT}', MAX(timestamp)) AS session_end,
    TIMESTAMP_DIFF(MAX(timestamp), MIN(timestamp), SECOND) AS session_duration_sec,
    COUNT(*) AS total_events
FROM events
GROUP BY session_id
ORDER BY session_start DESC, session_id""",
        # TIMESTAMP_DIFF counts whole seconds (1.9 s -> 1): integer division of microseconds does too.
        f"""SELECT session_id,
    {_sqlite_iso('start_us')} AS session_start,
    {_sqlite_iso('end_us')} AS session_end,
    (end_us - start_us) / 1000000 AS session_duration_sec,
    total_events
FROM (SELECT session_id, MIN(micros) AS start_us, MAX(micros) AS end_us, COUNT(*) AS total_events
      FROM events GROUP BY session_id)
ORDER BY session_start DESC, session_id"""),
    Question("weapon_popularity", "Weapon popularity", ("weapon", "usage_count"),
             _WEAPONS_SQL.format(weapon=bigquery_scalar("$.weapon")),
             _WEAPONS_SQL.format(weapon=sqlite_scalar("$.weapon"))),
    Question(
        "hourly_today", "Events per hour of day, today (UTC)", ("hour", "event_count"),
        """SELECT EXTRACT(HOUR FROM timestamp) AS hour, COUNT(*) AS event_count
FROM events
WHERE DATE(timestamp) = @today
GROUP BY hour
ORDER BY hour""",
        f"""SELECT CAST(strftime('%H', micros / 1000000, 'unixepoch') AS INTEGER) AS hour,
    COUNT(*) AS event_count
FROM events
WHERE {_SQLITE_DAY} = :today
GROUP BY hour
ORDER BY hour"""),
)

_FOCUS_SQL = """SELECT day, COUNT(*) AS focus_phases,
    ROUND(COALESCE(SUM(seconds), 0) / 60.0, 1) AS focus_minutes
FROM (SELECT {day} AS day, {seconds} AS seconds
      FROM events
      WHERE event_type = 'timer_finished' AND {phase} = 'focus')
GROUP BY day
ORDER BY day"""


def _seconds_of_hms(duration: str, shaped: str, integer: str) -> str:
    """SQL for the seconds of an HH:MM:SS text (the app's durations); NULL for any other text, so
    a malformed one counts as a phase without minutes on both engines alike."""
    hms = " + ".join(f"CAST(SUBSTR({duration}, {start}, 2) AS {integer}) * {size}"
                     for start, size in ((1, 3600), (4, 60), (7, 1)))
    return f"(CASE WHEN {shaped} THEN {hms} END)"


_BIGQUERY_DURATION = bigquery_scalar("$.duration")
_SQLITE_DURATION = sqlite_scalar("$.duration")
# A completed focus phase is a Pomodoro's timer_finished with phase "focus"; skipped ones never finish.
FOCUS_TIME = Question(
    "focus_time", "Focus time: completed focus phases and minutes per day (UTC)",
    ("day", "focus_phases", "focus_minutes"),
    _FOCUS_SQL.format(day=_BIGQUERY_DAY, phase=bigquery_scalar("$.phase"), seconds=_seconds_of_hms(
        _BIGQUERY_DURATION, f"REGEXP_CONTAINS({_BIGQUERY_DURATION}, r'^[0-9][0-9]:[0-5][0-9]:[0-5][0-9]$')",
        "INT64")),
    _FOCUS_SQL.format(day=_SQLITE_DAY, phase=sqlite_scalar("$.phase"), seconds=_seconds_of_hms(
        _SQLITE_DURATION, f"{_SQLITE_DURATION} GLOB '[0-9][0-9]:[0-5][0-9]:[0-5][0-9]'", "INTEGER")))

# The Stats view: the clickstream document's questions and the Pomodoro's focus time.
STATS_QUESTIONS: tuple[Question, ...] = (*CLICKSTREAM_QUESTIONS, FOCUS_TIME)

# What an analyst acts on: errors the users met, how exact the timer is, how quick the sounds are.
METRIC_QUESTIONS: tuple[Question, ...] = (
    Question(
        "errors", "Errors by type and place", ("error", "place", "component", "error_count"),
        # A storm of one error is one event with a count; a plain event counts once.
        _ERRORS_SQL.format(
            error=bigquery_scalar("$.error"), place=bigquery_scalar("$.where"),
            count=f"COALESCE({_bigquery_number('$.count', 'INT64')}, 1)"),
        _ERRORS_SQL.format(
            error=sqlite_scalar("$.error"), place=sqlite_scalar("$.where"),
            count="(CASE WHEN json_valid(metadata) AND json_type(metadata, '$.count') = 'integer' "
                  "THEN metadata -> '$.count' ELSE 1 END)")),
    _percentiles("timer_accuracy", "Timer accuracy: how late the finish was shown, per day (UTC)",
                 "timer_finished", "$.late_ms", "finishes", "late_ms"),
    _percentiles("sound_latency", "Sound latency: play request to playing, per day (UTC)",
                 "sound_played", "$.latency_ms", "samples", "latency_ms"),
)

QUESTIONS: tuple[Question, ...] = STATS_QUESTIONS + METRIC_QUESTIONS
VIEW_PREFIX = "report_"


def view_sql(question: Question, table_id: str) -> str:
    """The question as a BigQuery view over the whole table: the report's SQL with its parameters
    bound to "all events" and "today" (a view takes no parameters)."""
    events = f"WITH events AS (SELECT * FROM `{table_id}`)\n"
    return events + question.bigquery_sql.replace("@today", "CURRENT_DATE()")
