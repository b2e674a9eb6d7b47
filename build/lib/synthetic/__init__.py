"""The synthetic council: seeded, messy extracts in all three formats with a documented truth."""

from synthetic.params import Params

__all__ = ["Params"]
