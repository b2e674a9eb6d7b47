"""Front-door metrics: pure, typed functions over a read-only DuckDB store, each registered with its definition."""
