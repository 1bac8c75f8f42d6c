"""`ropa` and `python -m ropa`: the command line. A Ctrl-C while it loads, before
:func:`ropa.cli.main` can answer for it, ends it in one line as it would a command.

A command is one short process with the cyclic garbage collector off. Loading SQLAlchemy and
the tables makes some 200,000 objects that live as long as the process, and the collector
walked them again and again: 30-50 ms of a 0.3 s `ropa activity show`. What commands build
afterwards holds no reference cycles (records, rows, strings; the heavy paths paused the
collector already, :func:`ropa.store.gc_paused`): at 100,000 activities the peak memory of
`activity list`, `export yaml`, `export xlsx`, `notice`, `history` and `check` is the same
with it off, to 1 MB.
"""

import gc
import sys


def run() -> None:
    """Console-script entry point."""
    gc.disable()
    try:
        from ropa.cli import main
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted (Ctrl-C); nothing was saved\n")
        raise SystemExit(130) from None
    main()


if __name__ == "__main__":
    run()
