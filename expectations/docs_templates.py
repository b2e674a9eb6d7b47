"""Great Expectations' Data Docs templates compiled once: one Jinja bytecode cache shared by every GE page view.

GE builds a new Jinja environment for each of a site's four views (index, expectations, validations,
profiling) at every build, and each compiles the templates it renders from source: about 40% of a
small store's Data Docs build. With this cache a template is compiled once per process (kept in
memory) and, where Jinja's own per-user cache folder can be used, once per machine (kept on disk,
keyed by the template's file and checked against its source, so an upgraded GE recompiles).
The cache holds compiled templates only, never data.
"""

from __future__ import annotations

import logging
import threading

import jinja2

log = logging.getLogger(__name__)


class TemplateCache(jinja2.BytecodeCache):
    """Compiled templates kept in memory, in front of Jinja's file cache when it is usable."""

    def __init__(self, disk: jinja2.BytecodeCache | None) -> None:
        self.disk = disk
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self.compiled.get(bucket.key)
        if code is None and self.disk is not None:
            self.disk.load_bytecode(bucket)
            if bucket.code is not None:
                self.compiled[bucket.key] = bucket.bytecode_to_string()
            return
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()
        if self.disk is not None:
            try:
                self.disk.dump_bytecode(bucket)
            except OSError as exc:  # a full or read-only /tmp costs compile time only
                log.debug("Data Docs templates not cached on disk: %s", exc)


def _disk_cache() -> jinja2.BytecodeCache | None:
    try:
        return jinja2.FileSystemBytecodeCache()  # Jinja's private per-user folder under the temp dir
    except (OSError, RuntimeError) as exc:  # RuntimeError: the folder is not safely ours
        log.debug("Data Docs templates cached in memory only: %s", exc)
        return None


_CACHE: TemplateCache | None = None
_LOCK = threading.Lock()


def share_compiled_templates() -> None:
    """Give every GE page view made from now on the process's template cache (idempotent)."""
    global _CACHE
    from great_expectations.render.view.view import DefaultJinjaView

    with _LOCK:
        if _CACHE is not None:
            return
        _CACHE = TemplateCache(_disk_cache())
        cache = _CACHE
        made = DefaultJinjaView.__init__

        def with_cache(self: DefaultJinjaView, *args: object, **kwargs: object) -> None:
            made(self, *args, **kwargs)
            self.env = self.env.overlay(bytecode_cache=cache)  # the same environment, compiled templates shared

        DefaultJinjaView.__init__ = with_cache  # type: ignore[method-assign]
