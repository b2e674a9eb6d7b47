"""Front-door metrics: pure, typed functions over a read-only DuckDB store, each registered with its definition."""

# The registry first: it imports every metric module and holds each measure's function object, while the metric
# modules read their filters and breakdowns from it when called (so any import of a metric module works).
from metrics import registry as registry
