"""Modules Great Expectations imports but the checks never use load on first use, or not at all.

GE 1.x imports every core expectation when it is imported, and one of them (the KL divergence
expectation, never used here) imports scipy.stats and altair at module level: about 2 s of the
4–5 s of CPU GE's import costs each process (a load, a pytest worker), and in a load that import
runs beside the reader (ingest.publish.prepare_checks), taking turns with it for the GIL.
`defer` puts a stand-in for such a module in `sys.modules`: importing it (`from scipy import
stats`, `import altair as alt`) costs nothing, and the first attribute read imports the real module,
which then replaces the stand-in everywhere (the stand-in takes the real module's attributes), so
code that uses it (metrics' `from scipy.stats import norm`) works as before. A module already
imported is left alone. The stand-in answers `__file__` and `__cached__` itself (from the module's
spec) without loading: tools that walk sys.modules for them (`inspect.stack`, which Streamlit runs at
its first element) would otherwise load every deferred module. (The standard library's
`importlib.util.LazyLoader` does not serve: every import statement reads the module's `__spec__`, and
that read makes a LazyLoader module load; measured, GE's import cost the same with it.)

A stand-in cannot serve a module whose names are imported (`from m import Name` reads the name at once).
GE's fluent data sources are such: `great_expectations.datasource.fluent`'s `__init__` imports every data
source GE has (SQL, Spark, Snowflake, Databricks, Fabric, pandas on files, S3, Azure, GCS, ...) and each
builds pydantic models when imported, while the checks use one, the in-memory pandas data source
(`context.data_sources.add_pandas`). `trim` has that package's `__init__` run without the imports of the
data sources named in `TRIMMED` (every other statement runs as GE wrote it, in GE's order); the first read
of a name the package then lacks (`from great_expectations.datasource.fluent import SparkDatasource`, or
any GE module that imports one) runs the whole `__init__`, so nothing GE offers is missing, only later.
The only difference to GE's users: until then, `context.data_sources` offers the data sources imported
(pandas; `add_spark` and the rest are registered when their module is imported).
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import pkgutil
import sys
import threading
import types
from collections.abc import Sequence
from typing import Any

DEFERRED = ("scipy.stats", "altair")
_LOCK = threading.RLock()

FLUENT = "great_expectations.datasource.fluent"
_FLUENT_SOURCES = (
    "alloy_datasource",
    "aurora_datasource",
    "bigquery_datasource",
    "citus_datasource",
    "pandas_file_path_datasource",
    "pandas_filesystem_datasource",
    "pandas_dbfs_datasource",
    "pandas_s3_datasource",
    "pandas_google_cloud_storage_datasource",
    "pandas_azure_blob_storage_datasource",
    "fabric",
    "fabric_datasource",
    "postgres_datasource",
    "neon_datasource",
    "redshift_datasource",
    "spark_datasource",
    "spark_file_path_datasource",
    "spark_filesystem_datasource",
    "spark_dbfs_datasource",
    "spark_s3_datasource",
    "spark_google_cloud_storage_datasource",
    "spark_azure_blob_storage_datasource",
    "sql_datasource",
    "sql_server_datasource",
    "sqlite_datasource",
    "databricks_sql_datasource",
    "snowflake_datasource",
)
TRIMMED: dict[str, frozenset[str]] = {FLUENT: frozenset(f"{FLUENT}.{source}" for source in _FLUENT_SOURCES)}
"""Per package, the modules whose imports its `__init__` skips until a name it lacks is read."""


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
    """Put a stand-in for each module not imported yet (and installed) into sys.modules; trim GE's fluent package."""
    with _LOCK:
        for name in names:
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)
            if spec is None:
                continue
            stand_in = _StandIn(name)
            # the importer reads the spec (is the module still initialising?): there, it loads nothing; tools
            # that look for every module's file (inspect.getmodule) read __file__ and __cached__: nor there
            stand_in.__dict__.update(__spec__=spec, __loader__=spec.loader, __package__=spec.parent)
            if spec.has_location and spec.origin:
                stand_in.__dict__.update(__file__=spec.origin, __cached__=spec.cached)
            sys.modules[name] = stand_in
    trim()


class _TrimmedInit(importlib.abc.Loader):
    """Runs a package's `__init__` without the imports of `skipped`; the first name it lacks runs all of it."""

    def __init__(self, loader: Any, skipped: frozenset[str]) -> None:
        self.loader = loader
        self.skipped = skipped

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, resource readers: the file's own loader's
        return getattr(self.loader, name)

    def exec_module(self, module: types.ModuleType) -> None:  # noqa: V105 (the import system calls it)
        name = module.__name__
        tree = ast.parse(self.loader.get_source(name), module.__file__ or name)
        skipped = [s for s in tree.body if isinstance(s, ast.ImportFrom) and s.module in self.skipped]
        tree.body = [s for s in tree.body if s not in skipped]
        # what the whole __init__ would add: the names those imports bind, and the package's submodules
        missing = {alias.asname or alias.name for s in skipped for alias in s.names}
        missing |= {sub.name for sub in pkgutil.iter_modules(module.__path__)}
        state = _Completion(module, self.loader.get_code(name), frozenset(missing))
        module.__dict__["__getattr__"] = state.attribute  # PEP 562: the names it lacks
        exec(compile(tree, module.__file__ or name, "exec"), module.__dict__)


class _Completion:
    """A trimmed package's missing names: the first the whole `__init__` binds runs it, once (GE's own walks of
    sys.modules, and suites.py's, look for names no such package has: they find none, as before)."""

    def __init__(self, module: types.ModuleType, code: types.CodeType, missing: frozenset[str]) -> None:
        self.module = module
        self.code: types.CodeType | None = code
        self.missing = missing  # names the whole __init__ binds that the trimmed one did not (any other is absent)
        self.running: int | None = None  # the thread running the whole __init__

    def attribute(self, name: str) -> Any:
        with _LOCK:
            if self.code is not None and self.running is None and name in self.missing:
                self.running = threading.get_ident()
                try:
                    exec(self.code, self.module.__dict__)
                finally:
                    self.code = None
                    self.running = None
            try:
                return self.module.__dict__[name]
            except KeyError:
                raise AttributeError(f"module {self.module.__name__!r} has no attribute {name!r}") from None


class _TrimFinder(importlib.abc.MetaPathFinder):
    """Finds the trimmed packages as the usual finders do, with `_TrimmedInit` to run their `__init__`."""

    def __init__(self) -> None:
        self.trimmed: dict[str, frozenset[str]] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        skipped = self.trimmed.get(fullname)
        if skipped is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "get_source"):
            return spec
        spec.loader = _TrimmedInit(spec.loader, skipped)
        return spec


_FINDER = _TrimFinder()


def trim(packages: dict[str, frozenset[str]] | None = None) -> None:
    """Have each package (`TRIMMED` by default) not imported yet run its `__init__` without the imports of the
    modules named (see the module's docstring)."""
    with _LOCK:
        for package, skipped in (TRIMMED if packages is None else packages).items():
            if package not in sys.modules:
                _FINDER.trimmed[package] = skipped
        if _FINDER not in sys.meta_path:
            sys.meta_path.insert(0, _FINDER)
