"""Work on a large register shared among forked processes: the checks, a key range each,
and the fingerprint of an export, computed while the export is written. Below the
thresholds (or on one core) the same work runs here, in this process.

A worker opens its own connection from the database URL: no connection crosses a fork.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from ropa import store
from ropa.db import Database
from ropa.schema import ACTIVITY, REFERENCE_KINDS
from ropa.snapshot import fingerprint

if TYPE_CHECKING:
    from ropa.checks import Finding, Rule

#: Registers with at least this many activities are checked by several processes.
PARALLEL_CHECK_FROM = 20_000
MAX_CHECK_WORKERS = 4

#: From this many activities on, the fingerprint of an export is computed by a process of its
#: own while the export is written: it takes ~0.09 ms an activity here, and starting the
#: worker ~15 ms (the record workbook of 2,000 activities is written ~0.17 s sooner).
PARALLEL_FINGERPRINT_FROM = 1_000


def _controlled_by(entity: str | None) -> store.Filter | None:
    return store.Filter(member=entity) if entity else None


def find(
    db: Database,
    conn: Connection,
    references: dict[str, dict[str, dict]],
    entity: str | None,
    rules: list[Rule],
    today: date,
) -> list[Finding]:
    """The findings of `rules` on the activities of one group member (or of all, without
    `entity`) and on the parties, sorted; `references` holds every record but the
    activities, read from the snapshot `conn` reads. A large register is checked by several
    processes, each taking a range of keys."""
    from ropa import checks

    total = store.count_records(conn, ACTIVITY, _controlled_by(entity))
    workers = min(os.cpu_count() or 1, MAX_CHECK_WORKERS)
    if total < PARALLEL_CHECK_FROM or workers < 2:
        ctx = checks.Context(references, today)
        found = checks.check_activities(
            ctx, store.iter_records(conn, ACTIVITY, _controlled_by(entity)), rules
        )
        return checks.sort_findings(found + checks.check_parties(ctx, rules))
    keys = store.read_keys(conn, ACTIVITY)
    ranges = [(part[0], part[-1]) for part in _split(keys, workers)]
    return _check_in_processes(db, references, ranges, entity, rules, today)


def _split(keys: list[str], parts: int) -> list[list[str]]:
    size = -(-len(keys) // parts)
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def _check_in_processes(
    db: Database,
    references: dict[str, dict[str, dict]],
    ranges: list[tuple[str, str]],
    entity: str | None,
    rules: list[Rule],
    today: date,
) -> list[Finding]:
    """Check each key range in a forked process; party rules run here on what they saw."""
    from ropa import checks

    db.dispose()  # no open connection may cross the fork
    jobs = [(db.url, first, last, entity, [r.id for r in rules], today) for first, last in ranges]
    pool = _workers(len(jobs))
    try:
        result = pool.map_async(_check_range, jobs)
        # Waited for in short steps: the kernel may hand a Ctrl-C to one of the pool's
        # threads, and Python's handler then only runs when the main thread wakes (a wait
        # without a timeout never did: about one Ctrl-C in six as the pool was made hung).
        while not result.ready():
            result.wait(0.2)
        parts = result.get()
    finally:
        _end(pool)
    ctx = checks.Context(references, today)
    found: list[Finding] = []
    for findings, recipients, controllers in parts:
        found += findings
        ctx.recipients_seen |= recipients
        ctx.controllers_seen |= controllers
    return checks.sort_findings(found + checks.check_parties(ctx, rules))


def _workers(count: int) -> Any:
    """A pool of forked workers that die with this process: each asks the kernel for SIGKILL
    when its parent dies (SIGKILL, SIGTERM, a crash), and :func:`_end` ends them when the
    parent is done with them, or stopped (Ctrl-C).

    Ctrl-C and SIGTERM are held back while the pool is made: one that interrupted it half
    made (some workers forked, its handler threads not started) left the process hanging at
    exit. One held back arrives once the pool is whole, and terminates it. A new worker holds
    them back too until it has its own handlers: the SIGTERM of terminate() reaching it
    earlier ran ropa's handler, whose exit Python ignores inside the fork hooks."""
    import multiprocessing
    import signal

    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        pool = multiprocessing.get_context("fork").Pool(
            count, initializer=_die_with_parent, initargs=(os.getpid(), held)
        )
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)
        raise
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a Ctrl-C held back arrives here
    except BaseException:
        _end(pool)
        raise
    return pool


#: Seconds a pool's workers have to leave after SIGTERM before they are killed.
TERMINATE_GRACE_S = 3


def _end(pool: Any) -> None:
    """Terminate a pool (SIGTERM to each worker) and wait for its workers; those still there
    after TERMINATE_GRACE_S are killed, and after as long again the pool is left to the
    process's exit. Under load, about one Ctrl-C in twelve that came as the pool was made
    left a worker waiting on the queue lock terminate() holds, its SIGTERM lost, and the
    wait for it never ended; and terminate() takes that lock before it stops the workers,
    so a worker killed while holding it kept terminate() from returning at all. The pool is
    terminated by a thread of its own: the command never waits on it for good."""
    import multiprocessing
    import threading

    ended = threading.Event()

    def terminate() -> None:
        try:
            pool.terminate()
            pool.join()
        finally:
            ended.set()

    threading.Thread(target=terminate, daemon=True).start()
    if ended.wait(TERMINATE_GRACE_S):
        return
    for child in multiprocessing.active_children():
        child.kill()
    ended.wait(TERMINATE_GRACE_S)


def _die_with_parent(parent: int, held: Any) -> None:
    """In a new worker: leave Ctrl-C to the parent, then take the signal mask the parent had
    before it held signals back; be killed when the parent process dies (Linux), and go at
    once when it is already gone (it may die between the fork and this call)."""
    import signal

    # SIGTERM (the pool's terminate(), or one sent to the whole process group) ends a worker
    # by an exception, so that it lets go of the pool's queue lock on its way out: one that
    # died by the default action while idle held it, and terminate() waited for it for good.
    signal.signal(signal.SIGTERM, _leave)
    # Ctrl-C reaches the whole process group: the parent alone answers it (and terminates the
    # pool). A worker interrupted mid-task printed a traceback, and could die holding the
    # pool's queue lock, on which the parent then waited for good.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a SIGTERM held back ends it here
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the pool's terminate() still applies
        pass
    if os.getppid() != parent:
        os._exit(1)


def _leave(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _check_range(
    job: tuple[str, str, str, str | None, list[str], date],
) -> tuple[list[Finding], set[str], set[str]]:
    """In a worker process: the per-activity findings of the activities in a key range."""
    from ropa import checks

    url, first, last, entity, rule_ids, today = job
    db = Database(url)
    try:
        with db.read() as conn:
            references = store.read_kinds(conn, REFERENCE_KINDS)
            where = store.Filter(member=entity, keys_between=(first, last))
            ctx = checks.Context(references, today)
            rules = [checks.RULES[r] for r in rule_ids]
            findings = checks.check_activities(
                ctx, store.iter_records(conn, ACTIVITY, where), rules
            )
    finally:
        db.dispose()
    return findings, ctx.recipients_seen, ctx.controllers_seen


@contextmanager
def fingerprint_later(
    db: Database,
) -> Iterator[Callable[[Connection, dict[str, dict[str, dict]]], str]]:
    """Start on the registry fingerprint; yields the function that gives it for the snapshot
    a connection reads, with that snapshot's reference records. Leaving the block ends the
    worker, whatever ends it (an error, Ctrl-C, SIGTERM).

    For a large register a forked process computes it while the caller writes the export. It
    is forked before the caller opens its connection (no connection may cross a fork: a
    SQLite child would inherit the parent's lock bookkeeping), and reads its own snapshot; so
    when the revision log shows that something was written in between, or when the worker
    failed, the fingerprint is computed again from the caller's snapshot."""
    from ropa.history import latest_revision

    with db.read() as conn:
        total = store.count_records(conn, ACTIVITY)
    if total < PARALLEL_FINGERPRINT_FROM or (os.cpu_count() or 1) < 2:
        yield fingerprint
        return
    db.dispose()  # no open connection may cross the fork
    pool = _workers(1)
    try:
        future = pool.apply_async(_fingerprint_job, (db.url,))

        def result(conn: Connection, references: dict[str, dict[str, dict]]) -> str:
            seen = latest_revision(conn)
            try:
                value, revision = future.get()
            except Exception:  # its own connection failed (too many clients, a file error…)
                value, revision = "", None
            return value if value and revision == seen else fingerprint(conn, references)

        yield result
    finally:
        _end(pool)


def _fingerprint_job(url: str) -> tuple[str, int | None]:
    """In a worker process: the fingerprint, and the newest revision of the snapshot read."""
    from ropa.history import latest_revision

    db = Database(url)
    try:
        with db.read() as conn:
            revision = latest_revision(conn)
            return fingerprint(conn, store.read_kinds(conn, REFERENCE_KINDS)), revision
    finally:
        db.dispose()
