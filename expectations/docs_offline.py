"""Data Docs that need no internet: GE's CDN assets replaced by copies vendored in expectations/data_docs_assets/.

Great Expectations' page templates load Bootstrap, bootstrap-table, jQuery, Popper, vega and Font
Awesome from CDNs and its logo from S3. Councils' networks often block those, which leaves the
pages unstyled and their result lists (filled in by bootstrap-table) empty. After GE has written a
site, `make_offline` copies the vendored files (with their licences) into `static/vendor/`,
rewrites every page's CDN URLs to relative paths, adds a small stylesheet that lifts GE's colours
to WCAG AA contrast, and refuses the site if any page still loads an asset from another host.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

ASSETS_DIR = Path(__file__).with_name("data_docs_assets")
SITE_VENDOR = Path("static") / "vendor"
OVERRIDES_CSS = "frontdoor-overrides.css"
GE_IMAGES_HOST = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"

CDN_ASSETS: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table-1.19.1/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table-1.19.1/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": "bootstrap-dark-1.1.0/bootstrap-prefers-dark.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "fontawesome-free-6.6.0/css/all.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js-1.12.9/popper.min.js",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0/vega-embed.min.js",
}
"""Each URL GE 1.24's templates load (render/view/templates) -> the vendored file under data_docs_assets/."""

_GE_IMAGE = re.compile(re.escape(GE_IMAGES_HOST) + r"([A-Za-z0-9_.-]+)(\?[^\"'\s)]*)?")
_FAVICON = re.compile(r'href="(?:\./|(?:\.\./)*)static/images/favicon\.ico"')
_SRI = re.compile(r'\s+(integrity="sha\d+-[^"]*"|crossorigin="anonymous")')
_EXTERNAL_ASSET = re.compile(
    r"""<(?:script|link|img|iframe|source|video|audio|embed)\b[^>]*?\s(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)"""
    r"""|url\(\s*["']?((?:https?:)?//[^"')]+)""",
    re.IGNORECASE,
)


def external_assets(text: str) -> list[str]:
    """URLs on another host that a page or stylesheet would fetch by itself (links a reader clicks are not counted)."""
    return [a or b for a, b in _EXTERNAL_ASSET.findall(text)]


def _to_root(site: Path, page: Path) -> str:
    """The relative path from `page` to the site's root, ending in '/' ('' for a page at the root)."""
    up = os.path.relpath(site, page.parent)
    return "" if up == "." else up.replace(os.sep, "/") + "/"


def offline_html(text: str, to_root: str) -> str:
    """One page with its CDN assets pointing at the vendored copies and the contrast stylesheet added."""
    vendor = f"{to_root}{SITE_VENDOR.as_posix()}/"
    for url in sorted(CDN_ASSETS, key=len, reverse=True):
        text = text.replace(f'"{url}"', f'"{vendor}{CDN_ASSETS[url]}"')
    text = _GE_IMAGE.sub(lambda m: f"{to_root}static/images/{m.group(1)}", text)
    text = _SRI.sub("", text)
    text = _FAVICON.sub(f'href="{to_root}static/images/favicon.ico"', text)  # GE's is one level short on result pages
    overrides = f'<link rel="stylesheet" href="{vendor}{OVERRIDES_CSS}"/>'
    return text.replace("</head>", f"{overrides}\n</head>", 1)


def _offline_stylesheets(site: Path) -> None:
    """GE's own stylesheet sets a dark-mode logo from S3: drop it (the page's logo image is shown instead)."""
    for css in (site / "static" / "styles").glob("*.css"):
        text = css.read_text(encoding="utf-8")
        css.write_text(re.sub(r"url\(\s*'" + re.escape(GE_IMAGES_HOST) + r"[^)]*\)", "none", text), encoding="utf-8")


def make_offline(site: Path) -> None:
    """Vendor the assets into `site` and rewrite its pages; raises if a page would still fetch from the internet."""
    shutil.copytree(ASSETS_DIR, site / SITE_VENDOR, dirs_exist_ok=True)
    _offline_stylesheets(site)
    for page in site.rglob("*.html"):
        text = offline_html(page.read_text(encoding="utf-8"), _to_root(site, page))
        left = external_assets(text)
        if left:
            raise RuntimeError(
                f"{page.relative_to(site)}: Data Docs would fetch {left[0]} (not vendored in {ASSETS_DIR.name}/)"
            )
        page.write_text(text, encoding="utf-8")
    for css in site.rglob("*.css"):
        left = external_assets(css.read_text(encoding="utf-8"))
        if left:
            raise RuntimeError(f"{css.relative_to(site)}: Data Docs would fetch {left[0]}")
