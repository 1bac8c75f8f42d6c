"""The command line as a whole: help, version, imports, error shape, documentation."""

from __future__ import annotations

import re
import subprocess
import sys

from typer.main import get_command
from typer.testing import CliRunner

from ropa import __version__
from ropa.cli import app
from tests.conftest import ROOT, SAMPLE


def _commands(group=None, prefix=()):
    group = group or get_command(app)
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        yield path, command
        if hasattr(command, "commands"):
            yield from _commands(command, path)


def test_python_dash_m_ropa_works():
    result = subprocess.run(
        [sys.executable, "-m", "ropa", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0
    assert result.stdout == f"ropa {__version__}\n"


def test_a_closed_stdout_is_one_error_line_not_a_traceback_or_lost_output(tmp_path):
    """`ropa notice >&-`: the output has nowhere to go, which is an error, not a crash and not
    a success."""
    import os

    ropa = [sys.executable, "-m", "ropa", "--db", str(tmp_path / "r.db")]
    subprocess.run([*ropa, "init"], check=True, capture_output=True, cwd=ROOT)
    subprocess.run([*ropa, "import", str(SAMPLE)], check=True, capture_output=True, cwd=ROOT)
    for arguments in (
        ["--version"],
        ["--help"],
        ["notice"],
        ["notice", "-f", "html"],
        ["export", "yaml", "-o", "-"],
        ["activity", "list"],
        ["activity", "list", "-f", "json"],
        ["history", "-f", "csv"],
    ):
        result = subprocess.run(
            [*ropa, *arguments],
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            preexec_fn=lambda: os.close(1),
        )
        assert (result.returncode, result.stderr) == (
            1,
            "error: standard output is closed: nothing can be written to it (-o FILE writes "
            "to a file)\n",
        ), arguments


def test_every_command_has_help_text_and_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path, command in _commands():
        assert (command.help or "").strip(), f"ropa {' '.join(path)} has no help text"
        if len(path) == 1 or path[0] in ("db", "export", "activity"):
            assert f"ropa {' '.join(path)}" in readme, f"README lacks `ropa {' '.join(path)}`"


def test_every_kind_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for kind in ("party", "category", "subject", "purpose", "source", "measure", "system"):
        assert re.search(rf"ropa {kind} (add|edit|list|show|remove)", readme), kind


def test_usage_error_exits_2(cli):
    result = cli("activity", "list", "--no-such-option")
    assert result.exit_code == 2


def test_library_error_is_one_line_without_traceback(initialised):
    result = initialised("purpose", "remove", "nothing")
    assert result.exit_code == 1
    assert result.stderr == "error: no purpose 'nothing'\n"


def test_no_args_shows_help():
    result = CliRunner().invoke(app, [])
    assert "Usage" in result.output
    assert "activity" in result.output


def test_csv_listings_escape_formulas(initialised):
    import csv
    import io

    hostile = '=HYPERLINK("http://x")'
    assert initialised("--actor", "@evil", "party", "add", "p1", "--name", "+Plus").exit_code == 0
    added = initialised("--actor", "=cmd", "activity", "add", "a1", "--name", hostile, "-m", "-1+1")
    assert added.exit_code == 0, added.stderr
    outputs = {
        "list": initialised("activity", "list", "-f", "csv").stdout,
        "party list": initialised("party", "list", "-f", "csv").stdout,
        "show": initialised("activity", "show", "a1", "-f", "csv").stdout,
        "history": initialised("history", "-f", "csv").stdout,
        "check": initialised("check", "-f", "csv").stdout,
        "db info": initialised("db", "info", "-f", "csv").stdout,
    }
    for command, text in outputs.items():
        rows = list(csv.reader(io.StringIO(text)))
        assert len(rows) > 1, command
        for row in rows:
            for value in row:
                assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (command, value)
    assert f"'{hostile}" in next(csv.reader(io.StringIO(outputs["show"].splitlines()[1])))
    history = list(csv.DictReader(io.StringIO(outputs["history"])))
    assert {(r["actor"], r["message"]) for r in history} >= {("'@evil", ""), ("'=cmd", "'-1+1")}


def test_a_usage_error_is_one_error_line_with_exit_code_2(initialised):
    for arguments, said in (
        (("activity", "list", "-f", "bogus"), "Invalid value for '--format' / '-f': 'bogus'"),
        (("--bogus",), "No such option: --bogus"),
        (("import",), "Missing argument 'files'."),
        (("activty",), "No such command 'activty'. Did you mean 'activity'?"),
    ):
        result = initialised(*arguments)
        assert result.exit_code == 2, arguments
        assert result.stderr.startswith(f"error: {said}"), result.stderr
        assert len(result.stderr.splitlines()) == 1 and "--help`)" in result.stderr
    # a group without a command still shows its help
    assert "Commands:" in initialised("activity").stderr
