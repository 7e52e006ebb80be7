"""`python -m hubgen` runs the command line."""

from hubgen.cli import console

console()
