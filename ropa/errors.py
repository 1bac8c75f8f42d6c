"""Domain errors raised by the library; the CLI turns each into one `error:` line."""

from __future__ import annotations

from dataclasses import dataclass


class RopaError(Exception):
    """Base of every error the library raises on purpose."""


class NotFound(RopaError):
    """No record with that key."""


class StillReferenced(RopaError):
    """A record cannot be removed while activities or other records refer to it."""


class BadOption(RopaError):
    """A value an option does not take (an unknown code, key or duration): a usage error,
    which the CLI ends with exit code 2, as Click ends its own."""


class DatabaseError(RopaError):
    """The database is missing, unreachable, or at the wrong schema revision."""


@dataclass(frozen=True)
class Problem:
    """One validation problem, located by a path such as `activities[3].transfers[0].country`
    or, for spreadsheets, `FILE:SHEET:ROW:COLUMN`."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class ValidationFailed(RopaError):
    """One or more problems with the input; nothing was written."""

    LIMIT = 100

    def __init__(self, problems: list[Problem], warnings: list[str] | None = None):
        self.problems = problems
        self.warnings = warnings or []  # what the input also had to say, shown first
        super().__init__(self.summary())

    def summary(self) -> str:
        lines = [str(p) for p in self.problems[: self.LIMIT]]
        if len(self.problems) > self.LIMIT:
            lines.append(f"… and {len(self.problems) - self.LIMIT} more problems")
        return "\n".join(lines)
