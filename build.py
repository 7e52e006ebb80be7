"""Build the site in this folder: `python build.py [hubgen build options]`.

A thin wrapper over `hubgen build`, for people who have not installed the
`hubgen` command (its dependencies must be installed: see README).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hubgen.cli import console  # noqa: E402 (after the path is set)

if __name__ == "__main__":
    console(["build", *sys.argv[1:]])
