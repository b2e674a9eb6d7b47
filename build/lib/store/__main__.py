"""`python -m store schema` prints the store's schema as Markdown (docs/SCHEMA.md is made from it)."""

from __future__ import annotations

import argparse

from store.schema import schema_markdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m store", description="Store utilities.")
    parser.add_argument("command", choices=["schema"], help="schema: print the schema as Markdown")
    parser.parse_args(argv)
    print(schema_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
