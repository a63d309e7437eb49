"""``python -m tsrnn``: the command line (see tsrnn.cli)."""
import sys

from .cli import main

sys.exit(main())
