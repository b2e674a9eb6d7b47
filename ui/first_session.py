"""Deep links in the first session after a start: hand the page over to the router (dashboard.py).

On its first session after a start, Streamlit treats `pages/` as an old-style pages folder and
resolves the URL against the file names there, before dashboard.py has run `st.navigation`, so a
link to `/overview` showed "Page not found". Each URL path of the dashboard therefore also has a
file of its name in `pages/` (`pages/overview.py`, `pages/re-referrals.py`, ...) that calls
`hand_over()`: the router runs, with its sign-in and filters, and draws the page the URL names.
Later sessions never read those files. A test holds the two lists of URL paths equal.
"""

from __future__ import annotations

import types
from functools import lru_cache
from pathlib import Path

ROUTER = Path(__file__).resolve().parent.parent / "dashboard.py"


@lru_cache(maxsize=4)
def _compiled(path: str, _mtime_ns: int) -> types.CodeType:
    """The router's code, compiled once per version of the file (as Streamlit keeps a script's)."""
    return compile(Path(path).read_bytes(), path, "exec", dont_inherit=True)


def hand_over() -> None:
    """Run the router in place of an old-style page (it resolves the URL itself), as Streamlit runs a page file:
    its code in a new `__main__` module whose `__file__` is the router's."""
    module = types.ModuleType("__main__")
    module.__dict__["__file__"] = str(ROUTER)
    exec(_compiled(str(ROUTER), ROUTER.stat().st_mtime_ns), module.__dict__)
