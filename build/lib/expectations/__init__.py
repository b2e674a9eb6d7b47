"""Data quality checks on the store: Great Expectations suites per canonical table plus SQL checks across tables."""
