"""Engine, transactions and schema migrations for SQLite and PostgreSQL.

A plain path means SQLite; `postgresql+psycopg://…` selects PostgreSQL. Reads run in an
ordinary transaction; writes in a serialized one (`BEGIN IMMEDIATE` on SQLite, a transaction
advisory lock on PostgreSQL) so that concurrent read-modify-write never loses an update.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ropa.errors import DatabaseError, RopaError
from ropa.io.files import check_target, keep_database

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine

DEFAULT_PATH = Path("data") / "ropa.db"
#: The environment variable naming the database when `--db` does not (read only here).
DB_ENVVAR = "ROPA_DB"
#: The newest migration in ropa/migrations/versions (a test holds that they agree).
HEAD_REVISION = "0005"
MIGRATIONS = Path(__file__).parent / "migrations"
BUSY_TIMEOUT_S = 60
#: The SQL function folding case on SQLite connections (:func:`ropa.find.folded`).
FOLD_FUNCTION = "ropa_lower"
_WRITE_LOCK_ID = 0x524F5041  # "ROPA": the PostgreSQL advisory lock that serializes writers
#: What this process has saved for good (a committed write, a backup in place), in words:
#: a Ctrl-C or SIGTERM after it says so.
_saved: str | None = None
COMMITTED = "the changes were saved: the register holds them (`ropa history` lists them)"


def saved() -> str | None:
    """What this process has saved for good, if anything."""
    return _saved


@contextmanager
def _saving(what: str) -> Iterator[None]:
    """Ctrl-C and SIGTERM held back while a block saves something for good (in this thread);
    one that came arrives after it, and finds `what` recorded."""
    import signal

    global _saved
    held = {signal.SIGINT, signal.SIGTERM}
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
        _saved = what
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def resolve_url(db: str | None = None) -> str:
    """The SQLAlchemy URL for `--db`, else `ROPA_DB`, else data/ropa.db (a path means SQLite)."""
    value = db or os.environ.get(DB_ENVVAR) or str(DEFAULT_PATH)
    if "://" not in value:
        return "sqlite:///" + str(Path(value).expanduser().resolve())
    scheme, separator, rest = value.partition("://")
    value = scheme.lower() + separator + rest  # a scheme is read in any case (SQLITE:///…)
    for plain in ("postgresql://", "postgres://"):
        if value.startswith(plain):
            return "postgresql+psycopg://" + value[len(plain) :]
    return value


def parse_url(url: str) -> URL:
    """The URL as SQLAlchemy reads it, except that the user part ends at the LAST `@`, so a
    password holding an unencoded `@` stays whole (and out of the host name). The engine,
    `mask_url` and `url_secrets` all read a URL through this one function."""
    from urllib.parse import quote, unquote

    from sqlalchemy.engine import make_url

    scheme, separator, rest = url.partition("://")
    before_query, question, query = rest.partition("?")
    if separator and not before_query.startswith("/") and "@" in before_query:
        userinfo, _, hostpart = before_query.rpartition("@")
        user, colon, password = userinfo.partition(":")
        userinfo = quote(unquote(user), safe="") + colon + quote(unquote(password), safe="")
        url = f"{scheme}://{userinfo}@{hostpart}{question}{query}"
    return make_url(url)


def mask_url(url: str) -> str:
    """The URL with every password hidden as ***: the one in the user part (also when it
    holds an unencoded `@`) and any query parameter naming a password (`?password=…`)."""
    try:
        parsed = parse_url(url)
        hidden = {k: "***" for k in parsed.query if _is_secret(k)}
        if hidden:
            parsed = parsed.update_query_dict(hidden)
        return parsed.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")
    except Exception:  # an unparsable URL: show no part that could hold a password
        return url.split("://", 1)[0] + "://***"


def _is_secret(name: str) -> bool:
    return any(word in name.lower() for word in ("password", "secret", "token"))


def url_secrets(url: str) -> list[str]:
    """The passwords a database URL holds (its user part and query), to hide them; each also
    as written in the URL (percent-encoded or not)."""
    after_scheme = url.partition("://")[2]
    if "@" not in after_scheme and "?" not in after_scheme:
        return []  # no user part, no query: nowhere for a password (a SQLite path)
    try:
        parsed = parse_url(url)
    except Exception:  # unparsable: hide all that follows the scheme
        return [url.split("://", 1)[1]]
    found = [parsed.password] if parsed.password else []
    for key, value in parsed.query.items():
        if _is_secret(key):
            found += [value] if isinstance(value, str) else list(value)
    raw = url.split("://", 1)[1]
    userinfo = raw.partition("?")[0].rpartition("@")[0]
    found += [userinfo.partition(":")[2]] + [
        part.partition("=")[2] for part in raw.partition("?")[2].split("&") if _is_secret(part)
    ]
    return sorted({s for s in found if s}, key=len, reverse=True)


def hide_secrets(text: str, url: str) -> str:
    """`text` (an error message, say) with every password of `url` replaced by ***."""
    for secret in url_secrets(url):
        text = text.replace(secret, "***")
    return text


@dataclass
class Database:
    """A ropa database at a URL; engines are created lazily."""

    url: str
    _engine: Engine | None = None

    @classmethod
    def open(cls, db: str | None = None) -> Database:
        url = resolve_url(db)
        if url.startswith("sqlite") and "?" in url:
            raise RopaError(
                f"--db {db or url}: ropa opens the SQLite file itself (read and write, WAL); "
                "give its path without ?options"
            )
        if url.startswith("sqlite") and url.partition(":///")[2] in ("", ":memory:"):
            raise RopaError(
                f"--db {db or url}: an in-memory SQLite database would be lost when the "
                "command ends; give a file (data/ropa.db, or sqlite:///path/to/ropa.db)"
            )
        return cls(url)

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        return Path(self.url.split(":///", 1)[1])

    @property
    def display_url(self) -> str:
        return str(self.path) if self.is_sqlite else mask_url(self.url)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            if self.path is not None:
                keep_database(self.path)
            self._engine = _create_engine(self.url)
        return self._engine

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    # -- transactions -------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction on a database at the current schema revision: one snapshot of
        the register for all its statements, on both backends (SQLite's read transaction
        is one; PostgreSQL's must be REPEATABLE READ, as at READ COMMITTED each statement
        saw what others committed meanwhile: a record's rows, counts and fingerprint of
        different states)."""
        self.require_current()
        with self.engine.connect() as conn:
            if not self.is_sqlite:
                conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A serialized write transaction: committed on success, rolled back on any error."""
        from sqlalchemy.exc import IntegrityError

        self.require_current()
        try:
            with self._write_unchecked() as conn:
                yield conn
        except IntegrityError as e:
            raise _name_taken(e) or e from None

    @contextmanager
    def _write_unchecked(self) -> Iterator[Connection]:
        from sqlalchemy import text
        from sqlalchemy.exc import OperationalError

        with self.engine.connect() as conn:
            conn.execution_options(ropa_begin="IMMEDIATE")
            try:
                begun = conn.begin()
            except OperationalError as e:
                if self.is_sqlite and "locked" in str(e.orig):  # waited BUSY_TIMEOUT_S
                    raise DatabaseError(
                        f"another command has been writing to {self.display_url} for "
                        f"{BUSY_TIMEOUT_S:g} s (an import?) and still is; nothing was changed: "
                        "run this again when it has finished"
                    ) from None
                raise
            with begun as transaction:
                if not self.is_sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _WRITE_LOCK_ID})
                yield conn
                with _saving(COMMITTED):  # a signal waits for the commit's outcome
                    transaction.commit()

    # -- schema -------------------------------------------------------------------------

    def exists(self) -> bool:
        if self.is_sqlite:
            return self.path is not None and self.path.exists() and self.path.stat().st_size > 0
        return self.current_revision() is not None or self._has_tables()

    def _has_tables(self) -> bool:
        from sqlalchemy import inspect

        with self.engine.connect() as conn:
            return bool(inspect(conn).get_table_names())

    def current_revision(self) -> str | None:
        """The schema revision stamped in the database; None when there is none."""
        from sqlalchemy import text
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.connect() as conn:
                row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        except SQLAlchemyError as e:
            if _is_missing_table(e):
                return None
            raise DatabaseError(_connection_problem(self, e)) from None
        return row[0] if row else None

    def require_current(self) -> None:
        """Raise a DatabaseError telling the user what to run unless the schema is current."""
        if self.is_sqlite and not self.exists():
            raise DatabaseError(f"no database at {self.display_url}; run `ropa init` first")
        revision = self.current_revision()
        if revision == HEAD_REVISION:
            return
        if revision is None and not self._has_alembic_table():
            raise DatabaseError(
                f"{self.display_url} is not a ropa database; run `ropa init` to create one"
            )
        raise DatabaseError(
            f"the database schema is at revision {revision or 'none'}, this ropa needs "
            f"{HEAD_REVISION}; run `ropa db upgrade`"
        )

    def _has_alembic_table(self) -> bool:
        from sqlalchemy import inspect

        with self.engine.connect() as conn:
            return inspect(conn).has_table("alembic_version")

    def init(self, force: bool = False, backup: Path | None = None) -> None:
        """Create the database at the newest schema revision; with `force`, empty an
        existing one, copying it first to `backup` (SQLite) when given."""
        if self.exists():
            if not force:
                raise DatabaseError(
                    f"a database already exists at {self.display_url}; "
                    "use `ropa db upgrade` to migrate it or `ropa init --force` to start over"
                )
            self._reset(backup)
            return
        if self.is_sqlite:
            self.path.unlink(missing_ok=True)  # an empty file is no database
            _create_private_file(self.path)
        self.upgrade()

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate to the newest revision; returns (revision before, revision after)."""
        from alembic import command

        if self.is_sqlite and not self.path.exists():
            raise DatabaseError(f"no database at {self.display_url}; run `ropa init` first")
        before = self.current_revision()
        with self._write_unchecked() as conn:
            config = _alembic_config(conn)
            command.upgrade(config, "head")
        return before, HEAD_REVISION

    def downgrade(self, revision: str) -> None:
        """Migrate down to an older revision ("base" for an empty schema)."""
        from alembic import command

        with self._write_unchecked() as conn:
            command.downgrade(_alembic_config(conn), revision)

    def _reset(self, backup: Path | None = None) -> None:
        """Empty the database and recreate the schema in one write transaction: it waits for
        a running writer, and one waiting for it finds the new, empty database (the file is
        never unlinked under a writer). The `backup` is copied inside that transaction, so
        it holds what the reset deletes: a copy taken before, while an import still ran,
        held neither the import's records nor did the emptied database."""
        from alembic import command
        from sqlalchemy import text

        from ropa.models import metadata

        revision = self.current_revision()
        with self._write_unchecked() as conn:
            if backup is not None:
                self.copy_to(backup)  # a reader beside the write lock sees what it deletes
            if self.is_sqlite:  # checked at commit, when the tables are gone
                conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            if not self.is_sqlite and revision is not None:
                # the migrations undo what they made (tables, triggers, functions…)
                command.downgrade(_alembic_config(conn), "base")
            metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
            command.upgrade(_alembic_config(conn), "head")

    def record_count(self) -> int | None:
        """How many records and revisions the database holds; None when it cannot be read
        as a current ropa database."""
        try:
            counts = self.info()["counts"]
        except DatabaseError:
            return None
        return sum(counts.values())

    def info(self) -> dict[str, Any]:
        """URL (password masked), backend, schema revision and record counts."""
        from sqlalchemy import func, select

        from ropa.models import RECORD_MODELS, Revision

        with self.read() as conn:
            # One statement for every count (one round trip on PostgreSQL).
            models = [*RECORD_MODELS.values(), Revision]
            counts = conn.execute(
                select(
                    *(
                        select(func.count()).select_from(m).scalar_subquery().label(m.__tablename__)
                        for m in models
                    )
                )
            ).one()
        return {
            "url": self.display_url,
            "backend": "sqlite" if self.is_sqlite else self.engine.dialect.name,
            "revision": HEAD_REVISION,  # read() holds that the database is at it
            "counts": dict(counts._mapping),
        }

    def backup(self, target: Path) -> Path:
        """A consistent copy of a SQLite database, taken online while others may write."""

        if not self.is_sqlite:
            raise DatabaseError(
                "`ropa db backup` copies SQLite databases; for PostgreSQL use pg_dump"
            )
        self.require_current()
        return self.copy_to(target)

    def copy_to(self, target: Path) -> Path:
        """A consistent copy of a SQLite database file, whatever its schema revision."""
        import sqlite3

        target = Path(target)
        if str(target) == "-":
            raise DatabaseError("a backup is written to a file, not standard output; give a path")
        if target.exists():
            raise DatabaseError(f"{target} already exists; choose a new backup path")
        check_target(target)  # not the database's own -wal file, say
        # Copied into a private temporary file beside the target and moved into place when
        # complete: a backup killed half way leaves nothing at the target, and a retry works.
        import tempfile

        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        temporary = Path(name)
        try:
            source = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)
            copy = sqlite3.connect(temporary)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
            try:
                with _saving(f"the backup was written to {target}"):
                    os.link(temporary, target)  # never replaces a file that appeared meanwhile
            except FileExistsError:
                raise DatabaseError(f"{target} already exists; choose a new backup path") from None
        finally:
            temporary.unlink(missing_ok=True)
        return target


def _create_private_file(path: Path | None) -> None:
    """Create an empty SQLite file readable by its owner only (mode 0600)."""
    assert path is not None
    if not path.parent.exists():
        path.parent.mkdir(parents=True)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


def _create_engine(url: str) -> Engine:
    import logging

    from sqlalchemy import create_engine, event

    # The pool logs a connection it could not reset (a rollback cut short by Ctrl-C or
    # SIGTERM) with a traceback on stderr; the command has said its one line already.
    logging.getLogger("sqlalchemy.pool").addHandler(logging.NullHandler())
    if not url.startswith(("sqlite", "postgresql")):
        backend = url.partition("://")[0].partition("+")[0]
        raise DatabaseError(
            f"cannot use database {mask_url(url)}: ropa works with SQLite (a file path) and "
            f"PostgreSQL (postgresql://…), not {backend}"
        )
    if not url.startswith("sqlite"):
        try:
            # No statement prepared (psycopg prepares one run five times): PostgreSQL
            # plans a prepared statement without its values, and a look-up of hundreds of
            # names then compares every row with each name in turn instead of hashing them.
            return create_engine(
                parse_url(url), pool_pre_ping=True, connect_args={"prepare_threshold": None}
            )
        except ImportError as e:
            driver = "psycopg" if "psycopg" in (e.name or str(e)) else (e.name or "its driver")
            raise DatabaseError(
                f"cannot use database {mask_url(url)}: the {driver} driver is not installed; "
                "install it with: pip install 'ropa[postgres]'"
            ) from None
        except Exception as e:  # a malformed URL
            raise DatabaseError(f"cannot use database {mask_url(url)}: {e}") from None

    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below) so that writers can take the lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
        # SQLite's own lower() and LIKE fold ASCII letters only; `--owner` and `--search`
        # fold every letter (as PostgreSQL does) through this function. Not named `lower`:
        # the unique name indexes were built with the built-in one.
        dbapi_connection.create_function(FOLD_FUNCTION, 1, fold_case, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("ropa_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _name_taken(error: Exception) -> RopaError | None:
    """A unique name index that refused a write ropa's own check let through: PostgreSQL
    lowers some letters further than Python does (İstanbul is istanbul to it, i̇stanbul to
    Python), so two names ropa holds apart can be one name to the database."""
    diag = getattr(getattr(error, "orig", None), "diag", None)
    index = getattr(diag, "constraint_name", None) or ""
    if not (index.startswith("uq_") and index.endswith("_name")):
        return None
    detail = getattr(diag, "message_detail", None) or ""
    taken = detail.split(")=(", 1)[1].rsplit(") already exists", 1)[0] if ")=(" in detail else ""
    table = index.removeprefix("uq_").removesuffix("_name")
    return RopaError(
        f"the name {taken!r} is taken in {table} already, as this database compares names "
        "(ignoring case): rename one of them"
    )


def fold_case(value: Any) -> Any:
    """Lower case as PostgreSQL lowers letters (İ to i, where Python gives i and a combining
    dot), a final sigma as any sigma: what `translate(lower(x), 'ς', 'σ')` gives on
    PostgreSQL (:func:`ropa.find.folded`). Filters match, and names clash (ropa checks them
    before the database's unique `lower(name)` index does), the same on both backends."""
    return value.replace("İ", "i").lower().replace("ς", "σ") if isinstance(value, str) else value


#: The letters beyond ASCII that :func:`fold_case` turns into ASCII ones: a name holding one
#: folds to a name SQLite's `lower()` (ASCII letters only) keeps apart from it.
FOLDED_TO_ASCII = ("İ", "\u212a")  # the dotted capital I, the Kelvin sign


def _alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def _is_missing_table(error: Exception) -> bool:
    text = str(error).lower()
    return "no such table" in text or ("does not exist" in text and "relation" in text)


def _connection_problem(db: Database, error: Exception) -> str:
    detail = str(getattr(error, "orig", error)).strip().splitlines()[0]
    return f"cannot read database {db.display_url}: {detail}"
