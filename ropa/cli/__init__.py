"""The `ropa` command line: parses options, calls the library, turns its errors into one
`error:` line on stderr and exit code 1. Heavy modules are imported inside the commands."""

from __future__ import annotations

import getpass
import io
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from ropa import __version__
from ropa.db import DB_ENVVAR, DEFAULT_PATH, resolve_url
from ropa.errors import BadOption, RopaError, ValidationFailed
from ropa.io.files import keep_database

if TYPE_CHECKING:
    from ropa.db import Database
    from ropa.registry import Registry


def default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "unknown"


@dataclass
class State:
    """Global options, and the database opened on first use."""

    db_option: str | None = None
    actor: str = field(default_factory=default_actor)
    _db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            from ropa.db import Database

            self._db = Database.open(self.db_option)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()

    @property
    def registry(self) -> Registry:
        from ropa.registry import Registry

        return Registry(self.db, self.actor)

    @contextmanager
    def registry_at(self, as_of: date | None) -> Iterator[Registry]:
        """The register now, or (with --as-of, parsed by the `AsOf` option of
        ropa.cli.output) as it stood at the end of that day."""
        if as_of is None:
            yield self.registry
            return
        with self.registry.as_of(as_of) as past:
            yield past


def parse_day(option: str, text: str) -> date:
    """An ISO date given to an option; a BadOption naming the option otherwise."""
    from ropa.validate import parse_date

    try:
        day = parse_date(text)
    except ValueError as e:
        raise BadOption(f"{option}: {e}") from None
    if day is None:
        raise BadOption(f"{option}: a date is needed (YYYY-MM-DD)")
    return day


#: The date-times an option takes: YYYY-MM-DDTHH:MM[:SS[.ffffff]] (a space may stand for
#: the T, as `ropa history` prints them), then Z or ±HH:MM (or ±HHMM, ±HH), or no zone
#: (UTC); ASCII digits.
_DATE_TIME = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?$"
)


def parse_when(option: str, text: str) -> date:
    """An ISO date (the end of that day) or ISO date-time (UTC unless it names a zone) given
    to an option; a BadOption naming the option otherwise. A date-time is a `datetime`. Only
    the forms the help names: not week dates (2026-W48), nor 20261123, nor other digits."""
    from datetime import UTC, datetime, timedelta

    from ropa.validate import ISO_DATE

    value = text.strip()
    if ISO_DATE.match(value):
        return parse_day(option, value)
    if _DATE_TIME.match(value):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            try:
                (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC) + timedelta(
                    microseconds=1
                )
            except (ValueError, OverflowError):
                raise BadOption(
                    f"{option}: {text!r} is outside the calendar once taken to UTC "
                    "(0001-01-01 to 9999-12-31)"
                ) from None
            return when
    raise BadOption(
        f"{option}: {text!r} is not an ISO date (YYYY-MM-DD) or date-time "
        "(YYYY-MM-DDTHH:MM[:SS], UTC unless a zone is given)"
    )


_state = State()


def state() -> State:
    """The global options of the running command."""
    return _state


def fail(message: str) -> None:
    """Print one `error:` line per problem on stderr: control characters escaped, and the
    database password (wherever the URL held it) never shown."""
    from ropa.cli.output import literal
    from ropa.db import hide_secrets

    message = hide_secrets(message, resolve_url(_state.db_option))
    for line in message.splitlines() or [""]:
        typer.echo(f"error: {literal(line)}", err=True)


def refuse(message: str) -> NoReturn:
    """Stop before anything is written, as a usage error: one `error:` line, exit code 2."""
    fail(message)
    raise typer.Exit(2)


def refuse_empty_values(command: Any) -> None:
    """Make every option and argument of a command tree that takes text refuse an empty (or
    blank) value given on the command line: `--status ''` would otherwise reset a field,
    `--entity ''` drop a filter, `--out ''` mean the current folder. A field is cleared
    with `--clear FIELD`; a filter is dropped by leaving it out."""
    for param in getattr(command, "params", []):
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            continue
        if not getattr(param, "_ropa_refuses_empty", False):
            param.consume_value = _refusing_empty(param, param.consume_value)
            param._ropa_refuses_empty = True
            if "-o" in getattr(param, "opts", ()):
                param.consume_value = _dash_as_named(param.consume_value)
    commands = getattr(command, "commands", {})
    for name in getattr(commands, "_loaded", commands):
        refuse_empty_values(commands[name])


def refuse_repeated_options(command: Any) -> None:
    """Make every command of a tree refuse an option given twice that takes one value: the
    last one silently won (`--owner A --owner B` kept B, `--kind source --kind purpose` wrote
    purposes). Options that take several (`--purpose`, `--clear`) repeat as before. And the
    parser's own usage errors (an option without its value) name the command."""
    if not getattr(command, "_ropa_refuses_repeats", False) and hasattr(command, "make_parser"):
        command.make_parser = _refusing_repeats(command.make_parser)
        command._ropa_refuses_repeats = True
    commands = getattr(command, "commands", {})
    for name in getattr(commands, "_loaded", commands):
        refuse_repeated_options(commands[name])


def _refusing_repeats(make_parser: Callable[..., Any]) -> Callable[..., Any]:
    def made(ctx: Any) -> Any:
        parser = make_parser(ctx)
        parse = parser.parse_args

        def parse_args(args: list[str]) -> Any:
            try:
                opts, rest, order = parse(args)
            except UsageError as e:  # Click's parser names no command: this is the one
                e.ctx = e.ctx or ctx
                raise
            seen: set[int] = set()
            for param in order:  # each option as often as it was given
                once = param.param_type_name == "option" and not (param.multiple or param.count)
                if once and id(param) in seen:
                    raise typer.BadParameter(
                        "given more than once; give it once", ctx=ctx, param=param
                    )
                seen.add(id(param))
            return opts, rest, order

        parser.parse_args = parse_args
        return parser

    return made


def _refusing_empty(param: Any, consume: Callable[..., Any]) -> Callable[..., Any]:
    def consume_value(ctx: Any, opts: Any) -> Any:
        value, source = consume(ctx, opts)
        if getattr(source, "name", None) == "COMMANDLINE" and _has_empty(value):
            clears = any(p.name == "clear" for p in ctx.command.params)
            raise typer.BadParameter(
                "an empty value is not allowed"
                + ("; a field is cleared with --clear FIELD" if clears else ""),
                ctx=ctx,
                param=param,
            )
        return value, source

    return consume_value


def _dash_as_named(consume: Callable[..., Any]) -> Callable[..., Any]:
    """`-o ./-` names a file called `-`; only `-o -` is standard output. pathlib reads both
    as `-`, so a path spelled otherwise that comes to `-` is made absolute first."""

    def consume_value(ctx: Any, opts: Any) -> Any:
        value, source = consume(ctx, opts)
        if isinstance(value, str) and value != "-" and os.path.normpath(value) == "-":
            value = os.path.abspath(value)
        return value, source

    return consume_value


def _has_empty(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, (list, tuple)):
        return any(_has_empty(v) for v in value)
    return False


class _UsageLine(UsageError):
    """A usage error said as one `error:` line, as every other error is (Click prints the
    usage, a hint and `Error: …` on four lines); exit code 2 still."""

    def __init__(self, error: UsageError):
        super().__init__(error.format_message(), error.ctx)

    def show(self, file: Any = None) -> None:
        fail(f"{self.message} (see `{self.ctx.command_path} --help`)" if self.ctx else self.message)


def _one_line(error: UsageError) -> UsageError:
    return error if isinstance(error, NoArgsIsHelpError | _UsageLine) else _UsageLine(error)


class RopaGroup(TyperGroup):
    """The root group: library errors become `error:` lines and exit code 1, never a
    traceback; usage errors become one `error:` line too, with Click's exit code 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from ropa.cli.commands import LazyCommands, readable_metavars

        self.commands = LazyCommands()
        readable_metavars(self)
        refuse_empty_values(self)
        refuse_repeated_options(self)

    def get_command(self, ctx: typer.Context, name: str) -> Any:
        command = super().get_command(ctx, name)
        if command is not None:  # on the command as it is loaded (once)
            refuse_empty_values(command)
            refuse_repeated_options(command)
        return command

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(self.commands)  # the names alone: no command is loaded to list them

    def format_commands(self, ctx: typer.Context, formatter: Any) -> None:
        from ropa.cli.commands import listing

        listing(self, ctx, formatter)

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if "--review-due" in args:
            from ropa.cli.records import optional_values

            args = optional_values(args)
        try:
            return super().parse_args(ctx, args)
        except UsageError as e:
            raise _one_line(e) from None

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as e:
            raise _one_line(e) from None
        except ValidationFailed as e:
            for warning in e.warnings:
                typer.echo(f"warning: {warning}", err=True)
            fail(e.summary())
        except BadOption as e:
            fail(str(e))
            raise typer.Exit(2) from None
        except RopaError as e:
            fail(str(e))
        except BrokenPipeError:  # output piped into `head`: not an error
            raise typer.Exit(0) from None
        except KeyboardInterrupt:
            fail(stopped("interrupted (Ctrl-C)"))
            raise typer.Exit(130) from None
        except OSError as e:
            fail(f"{e.filename}: {e.strerror}" if e.filename else str(e))
        except Exception as e:
            if type(e).__module__.split(".")[0] in ("sqlalchemy", "psycopg", "sqlite3"):
                from ropa.db import mask_url

                detail = str(getattr(e, "orig", e)).strip().splitlines()[0]
                where = mask_url(_state.db.url) if _state._db else "the database"
                fail(f"database error on {where}: {detail}")
            else:
                raise
        raise typer.Exit(1)


app = typer.Typer(
    cls=RopaGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Records of processing activities (GDPR Article 30): the register, its checks and "
    "the spreadsheets auditors want.",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ropa {__version__}")
        raise typer.Exit()


def _plain_actor(value: str | None) -> str | None:
    from ropa.cli.output import refuse_control_characters

    return refuse_control_characters("--actor")(value)


@app.callback()
def main_options(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL_OR_PATH",
            # No envvar here: ropa.db.resolve_url reads the variable, for the CLI and the
            # library alike.
            help="Database: a SQLite path or postgresql+psycopg://user@host/db "
            f"(default: {DEFAULT_PATH}) [env var: {DB_ENVVAR}]",
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            envvar="ROPA_ACTOR",
            help="Name recorded in the history (default: the OS user)",
            show_envvar=True,
            callback=_plain_actor,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    global _state
    if db is None and os.environ.get(DB_ENVVAR) == "":
        refuse(f"{DB_ENVVAR} is set but empty; unset it or name a database")
    _state = State(db_option=db, actor=actor or default_actor())
    url = resolve_url(db)
    if url.startswith("sqlite:///"):  # known before any command opens it (`ropa template`)
        keep_database(Path(url.removeprefix("sqlite:///")))
    ctx.obj = _state
    ctx.call_on_close(_state.close)


class _ClosedStdout(io.TextIOBase):
    """Standard output when the shell closed it (`ropa notice >&-`): writing to it is an
    error, reported as one line, not a traceback and not output silently lost."""

    def write(self, text: str) -> int:
        raise RopaError(
            "standard output is closed: nothing can be written to it (-o FILE writes to a file)"
        )


def stopped(how: str) -> str:
    """The line that ends a command stopped by a signal: whether its changes were saved."""
    from ropa.db import saved

    what = saved()
    if what:
        return f"{how} after {what}; the rest of the command did not run"
    return f"{how}; nothing was saved"


def _terminated(signum: int, frame: Any) -> NoReturn:
    fail(stopped("terminated (SIGTERM)"))
    raise SystemExit(128 + signum)


def main() -> None:
    """The command line, once loaded (the console script is :func:`ropa.__main__.run`)."""
    import signal

    if sys.stdout is None:  # file descriptor 1 was closed before Python started
        sys.stdout = _ClosedStdout()
    # SIGTERM (a shutdown, a timeout, `kill`) ends ropa as an error does: the transaction
    # rolled back and a half-written output's temporary file removed (exit 143, as before).
    signal.signal(signal.SIGTERM, _terminated)
    try:
        app(prog_name="ropa")
    except RopaError as e:  # raised before a command runs: --version or --help on that stdout
        fail(str(e))
        sys.exit(1)
    except SystemExit as e:
        if not e.code:  # done and said: a signal now would only bury the outcome under it
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        raise


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
