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
Two of GE's packages are such. `great_expectations.datasource.fluent`'s `__init__` imports every data source
GE has (SQL, Spark, Snowflake, Databricks, Fabric, pandas on files, S3, Azure, GCS, ...), each building pydantic
models when imported, while the checks use one, the in-memory pandas data source (`add_pandas`);
`great_expectations.expectations.core`'s imports all 59 core expectations, while the checks use four
(expectations/suites.py `to_expectation`). `trim` has such a package's `__init__` run without the imports its
`Trim` names (every other statement runs as GE wrote it, in GE's order; `gx.expectations`, which re-exports
core's names, binds those core binds). The first read of a name the package then lacks (`from
great_expectations.datasource.fluent import SparkDatasource`, `gx.expectations.ExpectColumnMeanToBeBetween`,
or a GE module importing one) runs the whole `__init__`, and so does GE's registry of expectations when asked
for one it lacks (`get_expectation_impl`, a suite read back naming another expectation) or for its listing: nothing
GE offers is missing, only later (a check given another expectation works; name its module in `_CORE_USED`
to keep the import trimmed). One difference remains until then: `context.data_sources` offers the data
sources imported (pandas; `add_spark` and the rest are registered when their module is imported). With both
trims GE's import costs ~2.2 s of CPU instead of ~3.2 s (BENCHMARKS.md, issue 13 fifth pass).
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
from dataclasses import dataclass
from typing import Any

DEFERRED = ("scipy.stats", "altair")
_LOCK = threading.RLock()


@dataclass(frozen=True)
class Trim:
    """What a package's `__init__` leaves out: the imports from the modules in `skip`, or, with `keep`, from each of
    its own submodules but those; `registry` names a dict (module, attribute) whose `get` of a name it lacks, or
    whose listing, runs the whole `__init__` first (where the modules left out register themselves)."""

    skip: frozenset[str] = frozenset()
    keep: frozenset[str] | None = None
    registry: tuple[str, str] | None = None

    def skips(self, module: str, package: str) -> bool:
        if self.keep is not None:
            return module.startswith(f"{package}.") and module not in self.keep
        return module in self.skip


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
CORE = "great_expectations.expectations.core"
_CORE_USED = (  # the expectations of expectations/suites.py's checks, and the one GE's validation definition imports
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "unexpected_rows_expectation",
)
TRIMMED: dict[str, Trim] = {
    FLUENT: Trim(skip=frozenset(f"{FLUENT}.{source}" for source in _FLUENT_SOURCES)),
    "great_expectations.expectations": Trim(),  # `gx.expectations`: binds the names of core's that core binds
    CORE: Trim(
        keep=frozenset(f"{CORE}.{name}" for name in _CORE_USED),
        registry=("great_expectations.expectations.registry", "_registered_expectations"),
    ),
}
"""Per package, what its `__init__` leaves out until a name it lacks is read."""


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


def _imported_from(statement: ast.ImportFrom, package: str) -> str:
    relative = "." * statement.level + (statement.module or "")
    return importlib.util.resolve_name(relative, package) if statement.level else relative


def _bound(aliases: list[ast.alias]) -> set[str]:
    return {alias.asname or alias.name for alias in aliases}


def _trimmed(tree: ast.Module, package: str, rule: Trim) -> set[str]:
    """Leave out of `tree` the imports `rule` skips, and the names other trimmed packages leave out; what they bind."""
    body: list[ast.stmt] = []
    missing: set[str] = set()
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom):
            source = _imported_from(statement, package)
            if rule.skips(source, package):
                missing |= _bound(statement.names)
                continue
            if source in _FINDER.trimmed and source != package:  # `from .core import (...)`: what core binds
                left_out = _left_out_by(source)
                missing |= _bound([alias for alias in statement.names if alias.name in left_out])
                statement.names = [alias for alias in statement.names if alias.name not in left_out]
                if not statement.names:
                    continue
        body.append(statement)
    tree.body = body
    return missing


def _left_out_by(package: str) -> set[str]:
    """The names a trimmed package (not imported yet, its parent imported) does not bind until it is completed."""
    parent = sys.modules[package.rpartition(".")[0]]
    spec = importlib.machinery.PathFinder.find_spec(package, list(parent.__path__))
    if spec is None or spec.loader is None or spec.origin is None:
        return set()
    source = spec.loader.get_source(package)  # type: ignore[attr-defined]
    return _trimmed(ast.parse(source, spec.origin), package, _FINDER.trimmed[package])


class _TrimmedInit(importlib.abc.Loader):
    """Runs a package's `__init__` trimmed by its `Trim`; the first name it lacks runs all of it."""

    def __init__(self, loader: Any, rule: Trim) -> None:
        self.loader = loader
        self.rule = rule

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, resource readers: the file's own loader's
        return getattr(self.loader, name)

    def exec_module(self, module: types.ModuleType) -> None:  # noqa: V105 (the import system calls it)
        name = module.__name__
        tree = ast.parse(self.loader.get_source(name), module.__file__ or name)
        # what the whole __init__ would add: the names the imports left out bind, and the package's submodules
        missing = _trimmed(tree, name, self.rule)
        missing |= {sub.name for sub in pkgutil.iter_modules(module.__path__)}
        state = _Completion(module, self.loader.get_code(name), frozenset(missing))
        module.__dict__["__getattr__"] = state.attribute  # PEP 562: the names it lacks
        exec(compile(tree, module.__file__ or name, "exec"), module.__dict__)
        if self.rule.registry is not None:
            registry, attribute = self.rule.registry
            holder = importlib.import_module(registry)
            setattr(holder, attribute, _CompletingRegistry(getattr(holder, attribute), state))


class _Completion:
    """A trimmed package's missing names: the first the whole `__init__` binds runs it, once (GE's own walks of
    sys.modules, and suites.py's, look for names no such package has: they find none, as before)."""

    def __init__(self, module: types.ModuleType, code: types.CodeType, missing: frozenset[str]) -> None:
        self.module = module
        self.code: types.CodeType | None = code
        self.missing = missing  # names the whole __init__ binds that the trimmed one did not (any other is absent)
        self.running = False

    def run(self) -> None:
        """Run the whole `__init__`, unless it ran or is running (in this thread: other threads wait for it)."""
        with _LOCK:
            if self.code is None or self.running:
                return
            self.running = True
            try:
                exec(self.code, self.module.__dict__)
            finally:
                self.code = None
                self.running = False

    def attribute(self, name: str) -> Any:
        if name in self.missing:
            self.run()
        try:
            return self.module.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {self.module.__name__!r} has no attribute {name!r}") from None


class _CompletingRegistry(dict):
    """A registry the modules a trimmed package left out would fill: a name it lacks, or its listing, completes it."""

    def __init__(self, entries: dict, completion: _Completion) -> None:
        super().__init__(entries)
        self.completion = completion

    def get(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self.completion.run()
        return super().get(key, default)

    def items(self) -> Any:
        self.completion.run()
        return super().items()


class _TrimFinder(importlib.abc.MetaPathFinder):
    """Finds the trimmed packages as the usual finders do, with `_TrimmedInit` to run their `__init__`."""

    def __init__(self) -> None:
        self.trimmed: dict[str, Trim] = {}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        rule = self.trimmed.get(fullname)
        if rule is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "get_source"):
            return spec
        spec.loader = _TrimmedInit(spec.loader, rule)
        return spec


_FINDER = _TrimFinder()


def trim(packages: dict[str, Trim] | None = None) -> None:
    """Have each package (`TRIMMED` by default) not imported yet run its `__init__` trimmed (see the module's
    docstring)."""
    with _LOCK:
        for package, rule in (TRIMMED if packages is None else packages).items():
            if package not in sys.modules:
                _FINDER.trimmed[package] = rule
        if _FINDER not in sys.meta_path:
            sys.meta_path.insert(0, _FINDER)
