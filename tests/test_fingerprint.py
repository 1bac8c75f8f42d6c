"""The registry fingerprint on the record's cover when a worker process computes it (large
registers): the same SHA-256 of `ropa export yaml`, whatever happens to the worker."""

from __future__ import annotations

import pytest

import ropa.parallel
from ropa.io.record_cells import RecordScope


@pytest.fixture
def in_a_worker(monkeypatch):
    """Every register is large enough for the fingerprint to be computed by a worker."""
    monkeypatch.setattr(ropa.parallel, "PARALLEL_FINGERPRINT_FROM", 1)
    monkeypatch.setattr("os.cpu_count", lambda: 2)


def _failing_worker(url):
    raise OSError("the worker could not read the database")


def test_fingerprint_of_a_worker_that_failed_is_computed_here(sample, in_a_worker, monkeypatch):
    expected = sample.fingerprint()
    monkeypatch.setattr(ropa.parallel, "_fingerprint_job", _failing_worker)
    with sample.record(RecordScope()) as (cover, _, _activities):
        assert cover.registry_fingerprint == expected


def test_fingerprint_of_a_worker_is_the_sha256_of_the_exported_yaml(
    initialised, sample, in_a_worker, tmp_path
):
    import hashlib

    from openpyxl import load_workbook

    assert initialised("export", "yaml", "-o", "registry.yaml").exit_code == 0
    assert initialised("export", "xlsx", "-o", "record.xlsx").exit_code == 0
    cover = {r[0]: r[1] for r in load_workbook(tmp_path / "record.xlsx")["Cover"].values}
    expected = hashlib.sha256((tmp_path / "registry.yaml").read_bytes()).hexdigest()
    assert cover["Registry fingerprint (SHA-256)"] == expected


def test_no_connection_is_open_when_the_worker_is_forked(sample, in_a_worker, monkeypatch):
    """A SQLite child inherits its parent's lock bookkeeping: the fingerprint's worker is
    forked before the record's connection is opened (it was forked in the middle of it)."""
    open_at_fork = []
    workers = ropa.parallel._workers

    def watched(count):
        open_at_fork.append(sample.db.engine.pool.checkedout())
        return workers(count)

    monkeypatch.setattr(ropa.parallel, "_workers", watched)
    with sample.record(RecordScope()) as (cover, _, _activities):
        assert cover.registry_fingerprint == sample.fingerprint()
    assert open_at_fork == [0]


def test_the_worker_ends_with_the_record_whatever_ends_it(sample, in_a_worker, monkeypatch):
    """Ended by an error (or Ctrl-C, or SIGTERM) before the cover was written, the record
    left its worker to Pool.__del__, which printed an ignored exception at exit."""
    pools = []
    workers = ropa.parallel._workers

    def kept(count):
        pools.append(workers(count))
        return pools[-1]

    monkeypatch.setattr(ropa.parallel, "_workers", kept)
    with pytest.raises(KeyboardInterrupt), sample.record(RecordScope()):
        raise KeyboardInterrupt
    assert pools and not any(process.is_alive() for process in pools[0]._pool)
