import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while the command line was still being imported
    print("interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
