"""The ``motcua`` console script: ``serve`` patches the standard library for gevent first.

gevent's monkey patching must come before anything imports ssl or creates a lock (Flask
imports ssl), so this module imports nothing from the project until it has decided.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Patch for gevent when the command is ``serve``, then run the click group."""
    if command_name(sys.argv[1:]) == "serve":
        from gevent import monkey

        monkey.patch_all()
    from motcua.cli import main as cli

    cli()


# The group's options that take a value (motcua/cli.py and Flask's FlaskGroup).
_VALUE_OPTIONS = frozenset({"--instance", "--app", "-A", "--env-file", "-e"})


def command_name(args: list[str]) -> str:
    """The subcommand of a ``motcua`` command line: its first word that is no option's value."""
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg
    return ""
