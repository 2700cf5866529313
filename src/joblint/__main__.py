import os
import sys

# `python -m joblint` puts the working directory first on sys.path: a checked project's argparse.py
# or json.py would be imported, and run, in place of the library. joblint never runs what it checks.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from .cli import entry  # noqa: E402

entry()
