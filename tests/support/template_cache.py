"""Compile each Jinja template once per test process, not once per app.

Every test makes its own app, so every app compiled the templates it rendered again. Jinja's
bytecode cache (its own mechanism, ``Environment(bytecode_cache=...)``) keeps the compiled code
of a template by its name and a checksum of its source; here it is kept in memory and shared by
the apps of one test process, keyed also by the environment's settings that change the code.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from jinja2 import Environment
from jinja2.bccache import Bucket, BytecodeCache


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates in memory: {key: (source checksum, code)}."""

    def __init__(self) -> None:
        self.codes: dict[str, tuple[str, Any]] = {}

    def get_bucket(
        self, environment: Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        """A bucket keyed by the template and the environment's compile settings."""
        settings = (
            sorted(environment.extensions),
            environment.autoescape if isinstance(environment.autoescape, bool) else "callable",
            environment.optimized,
            environment.finalize is not None,
            environment.newline_sequence,
            environment.trim_blocks,
            environment.lstrip_blocks,
        )
        key = self.get_cache_key(f"{name}|{settings!r}", filename)
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    def load_bytecode(self, bucket: Bucket) -> None:
        """The code compiled for the same source, if any."""
        hit = self.codes.get(bucket.key)
        if hit is not None and hit[0] == bucket.checksum:
            bucket.code = hit[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the code just compiled."""
        self.codes[bucket.key] = (bucket.checksum, bucket.code)


CACHE = SharedBytecodeCache()


def install() -> None:
    """Give every Flask app created from now on this process's shared bytecode cache."""
    Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": CACHE}
