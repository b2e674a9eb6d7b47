"""Working days in England: Monday to Friday less England & Wales bank holidays, vectorised with numpy.

Convention (as the project's worked examples): the working days from A to B are the working days
after A up to and including B, so the same day is 0, Friday to Monday is 1, Saturday to Monday is 1.
"""

from __future__ import annotations

from functools import lru_cache

import holidays
import numpy as np

DAY = np.timedelta64(1, "D")


@lru_cache(maxsize=1)
def bank_holidays() -> np.ndarray:
    """England & Wales bank holidays 1990-2040 (the `holidays` package, subdivision ENG)."""
    days = holidays.country_holidays("GB", subdiv="ENG", years=range(1990, 2041))
    return np.array(sorted(days.keys()), dtype="datetime64[D]")


def _days(a: object) -> np.ndarray:
    return np.asarray(a, dtype="datetime64[D]")


def working_days_between(start: object, end: object) -> np.ndarray:
    """Working days after `start` up to and including `end` (negative when end is before start)."""
    s, e = _days(start), _days(end)
    return np.busday_count(s + DAY, e + DAY, holidays=bank_holidays())


def add_working_days(start: object, n: object) -> np.ndarray:
    """The earliest date whose working days from `start` equal `n` (n >= 0); `start` itself for 0."""
    s = _days(start)
    k = np.asarray(n, dtype=np.int64)
    shifted = np.busday_offset(s + DAY, np.maximum(k - 1, 0), roll="forward", holidays=bank_holidays())
    return np.where(k <= 0, s, shifted)


def roll_to_working_day(day: object) -> np.ndarray:
    """The day itself when it is a working day, else the next working day."""
    return np.busday_offset(_days(day), 0, roll="forward", holidays=bank_holidays())
