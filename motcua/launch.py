"""The ``motcua`` console script: ``serve`` patches the standard library for gevent first.

gevent's monkey patching must come before anything imports ssl or creates a lock (Flask
imports ssl), so this module imports nothing from the project until it has decided.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Patch for gevent when the command is ``serve``, then run the click group."""
    command = next((arg for arg in sys.argv[1:] if not arg.startswith("-")), "")
    if command == "serve":
        from gevent import monkey

        monkey.patch_all()
    from motcua.cli import main as cli

    cli()
