import os
import sys


def _exit_now(code: int) -> None:
    """End the process at once with ``code`` after Ctrl-C. The interpreter's usual shutdown can
    crash (SIGSEGV) while XLA's native threads are still busy with an interrupted computation,
    and has nothing left to do: every file is written whole or not at all (temporary files are
    removed as the interrupt unwinds), and "interrupted" has been printed."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


try:
    from simulator.cli import EXIT_INTERRUPTED, main
except KeyboardInterrupt:  # Ctrl-C while the command line was still being imported
    print("interrupted", file=sys.stderr)
    _exit_now(130)

code = main()
if code == EXIT_INTERRUPTED:
    _exit_now(code)
sys.exit(code)
