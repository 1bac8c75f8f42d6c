"""`ropa` and `python -m ropa`: the command line. A Ctrl-C while it loads, before
:func:`ropa.cli.main` can answer for it, ends it in one line as it would a command."""

import sys


def run() -> None:
    """Console-script entry point."""
    try:
        from ropa.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted (Ctrl-C); nothing was saved\n")
        raise SystemExit(130) from None
    main()


if __name__ == "__main__":
    run()
