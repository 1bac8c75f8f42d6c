"""The register read whole from one snapshot (an open read connection): as the sections of
the registry document, streamed in batches, and as its fingerprint."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.engine import Connection

from ropa import store
from ropa.records import document_record
from ropa.schema import ACTIVITY, REFERENCE_KINDS

#: Activities per batch of the activities section.
BATCH = 1000


def document_sections(
    conn: Connection, references: dict[str, dict[str, dict]]
) -> Iterator[tuple[str, Iterator[list[dict]]]]:
    """The registry document as (section, batches of records in their document form), the
    activities read as they are consumed; `references` holds every record of the other
    kinds, already read from the same snapshot."""

    def activity_batches() -> Iterator[list[dict]]:
        batch: list[dict] = []
        for record in store.iter_records(conn, ACTIVITY):
            batch.append(document_record(ACTIVITY, record))
            if len(batch) == BATCH:
                yield batch
                batch = []
        yield batch

    for kind in REFERENCE_KINDS:
        records = references[kind.name]
        yield kind.section, iter([[document_record(kind, records[key]) for key in sorted(records)]])
    yield ACTIVITY.section, activity_batches()


def fingerprint(conn: Connection, references: dict[str, dict[str, dict]]) -> str:
    """SHA-256 of the canonical YAML of the registry document of a snapshot."""
    import hashlib

    from ropa.io.document import yaml_chunks

    digest = hashlib.sha256()
    for chunk in yaml_chunks(document_sections(conn, references)):
        digest.update(chunk.encode("utf-8"))
    return digest.hexdigest()
