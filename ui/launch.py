"""Start the dashboard's server: refuse in one line when it would serve another address without sign-in, else run Streamlit in this process."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from streamlit import config
from streamlit.runtime.credentials import check_credentials
from streamlit.web import bootstrap
from streamlit.web.cli import configurator_options

from ui import access, audit

DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard.py"


def start_refusal() -> str | None:
    """The one-line reason not to start, read from Streamlit's effective settings (flags, environment, config.toml,
    secrets) and the access settings: serving another address without sign-in, or an audit sink that is wrong."""
    reason = access.refusal(config.get_option("server.address"))
    if reason:
        return reason
    try:
        sink = access.audit_syslog()
    except ValueError as error:
        return f"Refusing to serve: {error}"
    if sink is not None:
        try:
            audit.open_syslog(sink)
        except OSError as error:
            return f"Refusing to serve: the audit trail's system log {sink.address} cannot be reached ({error.strerror or error})."
    return None


@click.command(context_settings={"auto_envvar_prefix": "STREAMLIT"})
@configurator_options
@click.argument("args", nargs=-1)
def main(args: tuple[str, ...], **flag_options: Any) -> None:
    """`streamlit run dashboard.py` with the same flags, after the sign-in check; arguments after -- go to the script."""
    config._main_script_path = str(DASHBOARD)  # as `streamlit run` does: config and secrets beside the script count
    bootstrap.load_config_options(flag_options=flag_options)
    reason = start_refusal()
    if reason:
        click.echo(reason, err=True)
        sys.exit(1)
    check_credentials()
    bootstrap.run(str(DASHBOARD), False, list(args), flag_options)


if __name__ == "__main__":
    main(prog_name="python -m ui.launch")
