"""`python -m archivist` runs the command-line interface."""

import sys

from archivist.cli import main

sys.exit(main())
