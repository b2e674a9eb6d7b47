"""The launcher's refusal, decided before Streamlit loads where it can be: the server address and whether sign-in is configured, read from the flags, the environment and the config and secrets files as Streamlit reads them."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

LOCAL_ADDRESSES = frozenset({"localhost", "127.0.0.1", "::1"})
ADDRESS_ENV = "STREAMLIT_SERVER_ADDRESS"  # the --server.address flag's environment variable (click's envvar)
SECRETS_ENV = "STREAMLIT_SECRETS_FILES"
UNSURE = object()  # a setting read here that Streamlit may read otherwise: leave the answer to Streamlit's own reading


def refusal(address: str | None, sign_in: bool) -> str | None:
    """The one-line reason not to serve (no sign-in configured and not bound to localhost), else None."""
    if sign_in or (address or "").strip("[]") in LOCAL_ADDRESSES:
        return None
    where = address or "every network interface (no --server.address)"
    return (
        f"Refusing to serve: no sign-in is configured ([auth] in .streamlit/secrets.toml) and the server is bound "
        f"to {where}, not localhost; configure sign-in or run with --server.address 127.0.0.1."
    )


def streamlit_files(name: str, script: Path, cwd: Path) -> list[Path]:
    """Streamlit's own list of `name` files (config.toml, secrets.toml), later ones winning: ~/.streamlit, the folder
    it is started from, and the script's folder (streamlit.config.get_config_files)."""
    found = [Path.home() / ".streamlit" / name, cwd / ".streamlit" / name]
    beside = Path(os.path.abspath(script.parent)) / ".streamlit" / name
    return found if beside in found else [*found, beside]


def _flag(argv: Sequence[str], name: str) -> str | None | object:
    """The value of `--name VALUE` or `--name=VALUE` before any `--` (the last one given), None when not given."""
    value: str | None | object = None
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == f"--{name}":
            value = argv[i + 1] if i + 1 < len(argv) else UNSURE
        elif arg.startswith(f"--{name}="):
            value = arg.split("=", 1)[1]
    return value


def _config_value(files: list[Path], section: str, key: str, environ: Mapping[str, str]) -> Any:
    """The value the config files set for `section.key` (the last file wins; "env:NAME" is read from the environment)."""
    value: Any = None
    for file in files:
        if not file.is_file():
            continue
        try:
            parsed = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return UNSURE  # Streamlit logs and skips such a file: let it say so
        found = parsed.get(section, {})
        if isinstance(found, dict) and key in found:
            value = found[key]
    if isinstance(value, str) and value.startswith("env:"):
        return environ.get(value[4:], UNSURE)
    return value


def server_address(argv: Sequence[str], environ: Mapping[str, str], configs: list[Path]) -> str | None | object:
    """server.address as Streamlit resolves it: the flag, else its environment variable, else the config files."""
    flag = _flag(argv, "server.address")
    if flag is not None:
        return flag
    if environ.get(ADDRESS_ENV):
        return environ[ADDRESS_ENV]
    value = _config_value(configs, "server", "address", environ)
    return value if value is None or value is UNSURE or isinstance(value, str) else UNSURE


def sign_in_configured(
    argv: Sequence[str], environ: Mapping[str, str], configs: list[Path], default_secrets: list[Path]
) -> bool | object:
    """Whether an [auth] section is in the secrets files Streamlit reads (secrets.files: flag, environment, config
    files, else the default places); UNSURE for anything but plain TOML files (secret folders, a bad file)."""
    if any(arg == "--secrets.files" or arg.startswith("--secrets.files=") for arg in argv):
        return UNSURE
    listed = environ.get(SECRETS_ENV, "").split() or _config_value(configs, "secrets", "files", environ)
    if listed is UNSURE or (listed is not None and not isinstance(listed, list | str)):
        return UNSURE
    paths = [Path(p) for p in ([listed] if isinstance(listed, str) else listed)] if listed else default_secrets
    for path in paths:
        if not path.exists():
            continue
        if not path.is_file() or path.suffix != ".toml":
            return UNSURE
        try:
            if "auth" in tomllib.loads(path.read_text(encoding="utf-8")):
                return True
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return UNSURE
    return False


def early_refusal(argv: Sequence[str], environ: Mapping[str, str], script: Path, cwd: Path) -> str | None | object:
    """From the settings alone: the refusal to serve, None when they certainly allow serving, UNSURE when only
    Streamlit's own reading can tell (the launcher checks again with it in any case, after loading Streamlit)."""
    configs = streamlit_files("config.toml", script, cwd)
    address = server_address(argv, environ, configs)
    sign_in = sign_in_configured(argv, environ, configs, streamlit_files("secrets.toml", script, cwd))
    if sign_in is True or (isinstance(address, str) and address.strip("[]") in LOCAL_ADDRESSES):
        return None
    if address is UNSURE or sign_in is UNSURE:
        return UNSURE
    return refusal(address if isinstance(address, str) else None, sign_in=False)
