"""Modules Great Expectations imports but the checks never use (scipy.stats, altair) load on first use instead.

GE 1.x imports every core expectation when it is imported, and one of them (the KL divergence
expectation, never used here) imports scipy.stats and altair at module level: about 2 s of the
4–5 s of CPU GE's import costs each process (a load, a pytest worker), and in a load that import
runs beside the reader (ingest.publish.prepare_checks), taking turns with it for the GIL.
`defer` puts a stand-in for such a module in `sys.modules`: importing it (`from scipy import
stats`, `import altair as alt`) costs nothing, and the first attribute read imports the real module,
which then replaces the stand-in everywhere (the stand-in takes the real module's attributes), so
code that uses it (metrics' `from scipy.stats import norm`) works as before. A module already
imported is left alone. (The standard library's `importlib.util.LazyLoader` does not serve: every
import statement reads the module's `__spec__`, and that read makes a LazyLoader module load; measured, GE's
import cost the same with it.)
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from typing import Any

DEFERRED = ("scipy.stats", "altair")
_LOCK = threading.RLock()


class _StandIn(types.ModuleType):
    """A module not imported yet: any attribute it lacks imports the real one (its spec is there for the importer)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_load(self), name)


def _load(stand_in: _StandIn) -> types.ModuleType:
    name = stand_in.__name__
    with _LOCK:
        current = sys.modules.get(name)
        if current is not None and current is not stand_in:
            return current  # loaded already (by another thread)
        del sys.modules[name]
        try:
            module = importlib.import_module(name)
        except BaseException:
            sys.modules[name] = stand_in
            raise
        stand_in.__dict__.update(module.__dict__)  # whoever kept the stand-in sees the real module's attributes
        return module


def defer(names: tuple[str, ...] = DEFERRED) -> None:
    """Put a stand-in for each module not imported yet (and installed) into sys.modules."""
    with _LOCK:
        for name in names:
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)
            if spec is None:
                continue
            stand_in = _StandIn(name)
            # the importer reads the spec (is the module still initialising?): there, it loads nothing
            stand_in.__dict__.update(__spec__=spec, __loader__=spec.loader, __package__=spec.parent)
            sys.modules[name] = stand_in
