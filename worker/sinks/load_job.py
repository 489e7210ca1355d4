"""The load method: batch load jobs of newline-delimited JSON, for BigQuery's free tier (sandbox).

Load jobs are free and allowed in the free tier, but BigQuery runs at most 1,500 of them per table
per day (failed ones count too) for everyone writing to that table. So the uploader leaves
`min_interval` (HL_VOX_BQ_LOAD_INTERVAL) between sends, a batch is large, and each send starts at
most one job.

Exactly once: the job id is derived from the batch (the table and its event ids), and the batch is
recorded in the local store before the job is submitted (worker/sinks/ledger.py). A recorded batch
is looked up before anything is sent again: a job that succeeded settles it, one that failed is
retried under the next id (a job id is never reused), and a resubmitted id that exists answers 409
Conflict, which also means "look it up". Rows that BigQuery refuses fail the whole job; rows of the
wrong form are caught before (worker/sinks/rows.py), and a job that still fails on its data is split
in halves until the refused row is alone and can be quarantined.
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from collections.abc import Sequence

from google.api_core import exceptions as api_exceptions
from google.cloud import bigquery

from shared.event import Event
from shared.settings import Settings
from worker.bigquery_client import (
    ERRORS,
    LOAD,
    Where,
    explain,
    load_refused,
    load_still_running,
    make_client,
    seconds_left,
)
from worker.sinks.base import Delivery, SinkUnavailable
from worker.sinks.ledger import Ledger
from worker.sinks.rows import CheckedRow, checked_rows, json_line

log = logging.getLogger(__name__)

# 1,500 loads per table per day is one every 57.6 s for the whole table.
QUOTA_SAFE_INTERVAL = 60.0
# Our rows are about 200 bytes as JSON: 10,000 make one ~2 MB upload, a single request (the client
# switches to a resumable upload above 5 MB) that fits the exit budget on a fair connection.
MAX_ROWS_PER_LOAD = 10_000
# Polling a running job: start quick (the emulator and small loads finish in well under a second),
# then back off so a slow job costs few requests.
FIRST_POLL = 0.05
LONGEST_POLL = 1.0


class LoadJobSink:
    name = "bigquery load"
    max_batch = MAX_ROWS_PER_LOAD

    def __init__(self, settings: Settings, ledger: Ledger) -> None:
        self._settings = settings
        self._where = Where(settings.bq_project or "", settings.table_id, settings.bq_endpoint)
        self._ledger = ledger
        self._client: bigquery.Client | None = None
        self.min_interval = settings.bq_load_interval
        self.delivers_on_spool = False
        if self.min_interval < QUOTA_SAFE_INTERVAL:
            log.warning("HL_VOX_BQ_LOAD_INTERVAL=%g s lets this app alone start %d load jobs a day; "
                        "BigQuery allows 1,500 per table per day for everyone writing to it, failed "
                        "ones included: use %g or more", self.min_interval,
                        86400 // self.min_interval, QUOTA_SAFE_INTERVAL)

    def send(self, events: Sequence[Event], timeout: float) -> Delivery:
        deadline = time.monotonic() + timeout
        try:
            return self._send(events, deadline)
        except ERRORS as error:
            raise SinkUnavailable(explain(error, LOAD, self._where)) from error

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self._ledger.close()

    def _send(self, events: Sequence[Event], deadline: float) -> Delivery:
        """Resolves the batch in flight if there is one, else loads a new batch: one batch a send,
        as the record of a batch must stay until the uploader has settled it."""
        inflight = self._ledger.current()
        if inflight is not None and inflight.landed:  # loaded before a crash, not yet settled
            return Delivery(delivered=[event.event_id for event in inflight.pending])
        if inflight is not None:
            rows, rejected = checked_rows(inflight.pending)
            job_id = inflight.details["job_id"]
            job = self._lookup(job_id, deadline)
            if job is None:  # never submitted, or lost on the way: submitted now, this send's one job
                job = self._submit(job_id, rows, deadline)
            else:
                log.info("load job %s for %d event(s) was submitted before (%s): not submitted again",
                         job_id, len(rows), job.state)
            return self._finish(job, rows, inflight.ids, inflight.details, deadline, rejected)
        rows, rejected = checked_rows(events)
        if not rows:
            return Delivery(rejected=rejected)
        ids = [row.event_id for row in rows]
        details = {"job_id": self._job_id(ids, attempt=0), "attempt": "0"}
        self._ledger.record(ids, details)
        job = self._submit(details["job_id"], rows, deadline)
        return self._finish(job, rows, ids, details, deadline, rejected)

    # -- one job ---------------------------------------------------------------------------------

    def _submit(self, job_id: str, rows: list[CheckedRow], deadline: float) -> bigquery.LoadJob:
        data = b"".join(json_line(row) for row in rows)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON,
            write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
            # The table is setup_bigquery.py's to create, with its partitioning and clustering.
            create_disposition=bigquery.CreateDisposition.CREATE_NEVER)
        try:
            return self._connect().load_table_from_file(
                io.BytesIO(data), self._where.table_id, job_id=job_id, job_config=config,
                size=len(data), num_retries=0, timeout=seconds_left(deadline))
        except api_exceptions.Conflict:  # an earlier attempt did submit it
            job = self._lookup(job_id, deadline)
            if job is None:
                raise
            return job

    def _lookup(self, job_id: str, deadline: float) -> bigquery.LoadJob | None:
        try:
            job = self._connect().get_job(
                job_id, retry=None,  # type: ignore[arg-type]  # the client takes None: no retry
                timeout=seconds_left(deadline))
        except api_exceptions.NotFound:
            return None
        if not isinstance(job, bigquery.LoadJob):
            raise TypeError(f"job {job_id} is a {type(job).__name__}, not our load job")
        return job

    def _finish(self, job: bigquery.LoadJob, rows: list[CheckedRow], recorded: Sequence[str],
                details: dict[str, str], deadline: float, rejected: dict[str, str]) -> Delivery:
        """Waits for the job of the recorded batch (whose events still waiting are `rows`) within
        the deadline, and settles what its outcome decides."""
        delay = FIRST_POLL
        while job.state != "DONE":
            if time.monotonic() + delay >= deadline:
                raise SinkUnavailable(load_still_running(job.job_id) + LOAD.note)
            time.sleep(delay)
            delay = min(2 * delay, LONGEST_POLL)
            job.reload(retry=None, timeout=seconds_left(deadline))  # type: ignore[arg-type]  # as above
        if job.error_result is None:
            self._ledger.landed(details, {})
            return Delivery(delivered=[row.event_id for row in rows], rejected=rejected)
        if job.error_result.get("reason") == "invalid":  # BigQuery refused rows of the batch
            return self._refused(job, rows, rejected)
        attempt = int(details["attempt"]) + 1
        self._ledger.record(recorded, {"job_id": self._job_id(recorded, attempt), "attempt": str(attempt)})
        raise SinkUnavailable(explain(_job_error(job), LOAD, self._where))

    def _refused(self, job: bigquery.LoadJob, rows: list[CheckedRow], rejected: dict[str, str]) -> Delivery:
        """A lone refused row is quarantined; a larger batch keeps its first half in flight (a new
        job id, as the ids differ) and leaves the second half to the sends after it."""
        message = (job.error_result or {}).get("message", "")
        if len(rows) == 1:
            self._ledger.clear()
            rejected[rows[0].event_id] = f"refused by BigQuery load job {job.job_id}: {message}"
            return Delivery(rejected=rejected)
        half = [row.event_id for row in rows[:len(rows) // 2]]
        self._ledger.record(half, {"job_id": self._job_id(half, attempt=0), "attempt": "0"})
        raise SinkUnavailable(load_refused(job.job_id, message, len(rows)) + LOAD.note)

    def _job_id(self, ids: Sequence[str], attempt: int) -> str:
        """The same batch for the same table gives the same id; `attempt` counts failed jobs."""
        digest = hashlib.sha256("\n".join([self._where.table_id, *ids]).encode()).hexdigest()
        return f"hl_vox_load_{digest[:40]}_{attempt}"

    def _connect(self) -> bigquery.Client:
        if self._client is None:
            settings = self._settings
            self._client = make_client(self._where.project, settings.bq_endpoint, settings.bq_location)
        return self._client


def _job_error(job: bigquery.LoadJob) -> Exception:
    """The failed job's error as the exception the client raises for it."""
    try:
        job.result(retry=None, timeout=0)  # a DONE job answers at once: no request, no waiting
    except ERRORS as error:
        return error
    return RuntimeError(f"load job {job.job_id} failed: {job.error_result}")
