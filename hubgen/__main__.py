"""`python -m hubgen` runs the command line."""

import sys

from hubgen.cli import main

sys.exit(main())
