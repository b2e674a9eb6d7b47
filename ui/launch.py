"""Start the dashboard's server: refuse in one line when it would serve another address without sign-in, else run Streamlit in this process."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any

from ui import access_config, audit, launch_check

DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard.py"


def audit_refusal() -> str | None:
    """The one-line reason not to start when the audit trail's system log is set wrongly or cannot be reached."""
    try:
        sink = access_config.audit_syslog()
    except ValueError as error:
        return f"Refusing to serve: {error}"
    if sink is not None:
        try:
            audit.open_syslog(sink)
        except OSError as error:
            return f"Refusing to serve: the audit trail's system log {sink.address} cannot be reached ({error.strerror or error})."
    return None


def start_refusal() -> str | None:
    """The one-line reason not to start, read from Streamlit's effective settings (flags, environment, config.toml,
    secrets) and the access settings: serving another address without sign-in, or an audit sink that is wrong."""
    from streamlit import config

    from ui import access

    return access.refusal(config.get_option("server.address")) or audit_refusal()


def early_refusal(argv: list[str]) -> str | None:
    """The refusal decided before Streamlit loads (about 1 s of CPU, most of a refused start): the address and sign-in
    as Streamlit would read them (`ui/launch_check.py`), then, once the address is certainly allowed, the audit sink."""
    if "--help" in argv:
        return None  # click answers it, after loading Streamlit for the flags' descriptions
    address = launch_check.early_refusal(argv, os.environ, DASHBOARD, Path.cwd())
    if isinstance(address, str):
        return address
    return audit_refusal() if address is None else None


@functools.cache
def _run_command() -> Any:
    """`streamlit run`'s flags as a click command, made once per process (~200 options from Streamlit's config
    template, which does not change: a few hundredths of a second each time it is made)."""
    import click
    from streamlit import config
    from streamlit.runtime import credentials
    from streamlit.web import bootstrap
    from streamlit.web.cli import configurator_options

    @click.command(context_settings={"auto_envvar_prefix": "STREAMLIT"})
    @configurator_options
    @click.argument("args", nargs=-1)
    def run(args: tuple[str, ...], **flag_options: Any) -> None:
        """`streamlit run dashboard.py` with the same flags, after the sign-in check; arguments after -- go to the script."""
        config._main_script_path = str(DASHBOARD)  # as `streamlit run` does: config and secrets beside the script count
        bootstrap.load_config_options(flag_options=flag_options)
        reason = start_refusal()
        if reason:
            click.echo(reason, err=True)
            sys.exit(1)
        credentials.check_credentials()  # looked up at each start, as the module has it then
        bootstrap.run(str(DASHBOARD), False, list(args), flag_options)

    return run


def serve(argv: list[str]) -> None:
    """`streamlit run dashboard.py` with the same flags, after the sign-in check on Streamlit's own settings."""
    _run_command()(args=argv, prog_name="python -m ui.launch")


def main(argv: list[str]) -> None:
    reason = early_refusal(argv)
    if reason:
        print(reason, file=sys.stderr)
        sys.exit(1)
    serve(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
