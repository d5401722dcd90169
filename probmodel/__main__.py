"""``python -m probmodel`` and the ``probmodel`` console script.

A Ctrl-C (or SIGTERM) that arrives while the command line itself is being imported
ends with the same one-line message as one during a command, never a traceback.
"""

import sys


def main() -> None:
    """Import the command line and run it; an interrupt during the import exits 130."""
    try:
        from probmodel.cli import entry
    except KeyboardInterrupt:
        import os

        sys.stderr.write("error: interrupted; no run folder was written\n")
        sys.stderr.flush()
        os._exit(130)  # no teardown of a half-imported native library (see cli.entry)
    entry()


if __name__ == "__main__":
    main()
