"""Starting the dashboard (ui/launch.py): on another address without sign-in it refuses in one line and never listens,
however the address is given; on localhost it serves with the local-mode banner; with sign-in configured it serves on
every interface; a `streamlit run` that bypasses the launcher stops at its first page."""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from browser_kit import free_port, stop, wait_for_health
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
REFUSAL = "Refusing to serve: no sign-in is configured ([auth] in .streamlit/secrets.toml) and the server is bound to "
AUTH = """[auth]
redirect_uri = "http://localhost:8501/oauth2callback"
cookie_secret = "launch-test-cookie-secret"
client_id = "frontdoor"
client_secret = "launch-test-secret"
server_metadata_url = "http://127.0.0.1:9/.well-known/openid-configuration"
"""
FLAGS = ["--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]


def environment(tmp_path: Path, secrets: str = "", **extra: str) -> dict[str, str]:
    """This worktree's code, a secrets file of our own (none of the machine's), an empty store and a private trail."""
    (tmp_path / "secrets.toml").write_text(secrets)
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    return env | {
        "PYTHONPATH": str(ROOT),
        "STREAMLIT_SECRETS_FILES": str(tmp_path / "secrets.toml"),
        "FRONTDOOR_STORE": str(tmp_path / "no-store.duckdb"),
        "FRONTDOOR_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
        **extra,
    }


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def first_page(url: str, timeout: float = 90) -> list[ForwardMsg]:
    """Open a session as the browser does (one websocket, one run request); the messages of its first run."""
    messages: list[ForwardMsg] = []
    deadline = time.monotonic() + timeout
    with connect(url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"]) as ws:
        ws.send(BackMsg(rerun_script=ClientState(query_string="")).SerializeToString())
        while time.monotonic() < deadline:
            try:
                raw = ws.recv(timeout=deadline - time.monotonic())
            except Exception:  # closed: the server stopped
                break
            message = ForwardMsg()
            message.ParseFromString(raw)
            messages.append(message)
            if message.WhichOneof("type") == "script_finished":
                break
    return messages


def shown(messages: list[ForwardMsg]) -> str:
    return "\n".join(str(m) for m in messages)


@pytest.mark.parametrize(
    ("flags", "extra", "where"),
    [
        (["--server.address", "0.0.0.0"], {}, "0.0.0.0"),
        ([], {"STREAMLIT_SERVER_ADDRESS": "192.0.2.10"}, "192.0.2.10"),
        ([], {}, "every network interface (no --server.address)"),
    ],
    ids=["flag", "environment", "no-address"],
)
def test_another_address_without_sign_in_refuses_in_one_line_and_never_listens(
    tmp_path: Path, flags: list[str], extra: dict[str, str], where: str
) -> None:
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "ui.launch", *FLAGS, "--server.port", str(port), *flags],
        cwd=ROOT,
        env=environment(tmp_path, **extra),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.decode().splitlines() == [
        f"{REFUSAL}{where}, not localhost; configure sign-in or run with --server.address 127.0.0.1."
    ]
    assert b"URL" not in done.stdout and not listening(port)


def test_an_address_in_the_project_config_file_is_read_too(tmp_path: Path) -> None:
    """A .streamlit/config.toml in the folder it is started from counts, as it does for `streamlit run`."""
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "config.toml").write_text('[server]\naddress = "0.0.0.0"\n')
    done = subprocess.run(
        [sys.executable, "-m", "ui.launch", *FLAGS, "--server.port", str(free_port())],
        cwd=tmp_path,
        env=environment(tmp_path),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1 and done.stderr.decode().startswith(f"{REFUSAL}0.0.0.0, not localhost")


@pytest.mark.parametrize(
    ("syslog", "reason"),
    [
        (
            "{tmp}/no-such-log",
            "the audit trail's system log {tmp}/no-such-log cannot be reached (No such file or directory).",
        ),
        ("syslog.council.local", "FRONTDOOR_AUDIT_SYSLOG: syslog address 'syslog.council.local' is not a socket path"),
    ],
    ids=["unreachable", "malformed"],
)
def test_an_audit_system_log_that_cannot_be_used_stops_the_start_in_one_line(
    tmp_path: Path, syslog: str, reason: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ui.launch", *FLAGS, "--server.port", str(free_port()), "--server.address", "127.0.0.1"],
        cwd=ROOT,
        env=environment(tmp_path, FRONTDOOR_AUDIT_SYSLOG=syslog.format(tmp=tmp_path)),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1
    [line] = done.stderr.decode().splitlines()
    assert line.startswith("Refusing to serve: " + reason.format(tmp=tmp_path))


# Each case: flags, environment, files to write (relative to a case folder holding `home/` and `project/`, the folder it
# is started from), and whether the early check (before Streamlit loads) must decide it itself.
SETTINGS_CASES: dict[str, tuple[list[str], dict[str, str], dict[str, str], bool]] = {
    "flag": (["--server.address", "0.0.0.0"], {}, {}, True),
    "flag with =": (["--server.address=0.0.0.0"], {}, {}, True),
    "local flag": (["--server.address", "127.0.0.1"], {}, {}, True),
    "bracketed ::1": (["--server.address", "[::1]"], {}, {}, True),
    "environment": ([], {"STREAMLIT_SERVER_ADDRESS": "192.0.2.10"}, {}, True),
    "flag over environment": (["--server.address", "localhost"], {"STREAMLIT_SERVER_ADDRESS": "0.0.0.0"}, {}, True),
    "no address": ([], {}, {}, True),
    "project config": ([], {}, {"project/.streamlit/config.toml": '[server]\naddress = "0.0.0.0"\n'}, True),
    "project config over home": (
        [],
        {},
        {
            "home/.streamlit/config.toml": '[server]\naddress = "0.0.0.0"\n',
            "project/.streamlit/config.toml": '[server]\naddress = "127.0.0.1"\n',
        },
        True,
    ),
    "home config": ([], {}, {"home/.streamlit/config.toml": '[server]\naddress = "192.0.2.7"\n'}, True),
    "config env: value": (
        [],
        {"FRONT_ADDRESS": "localhost"},
        {"project/.streamlit/config.toml": '[server]\naddress = "env:FRONT_ADDRESS"\n'},
        True,
    ),
    "environment over config": (
        [],
        {"STREAMLIT_SERVER_ADDRESS": "127.0.0.1"},
        {"project/.streamlit/config.toml": '[server]\naddress = "0.0.0.0"\n'},
        True,
    ),
    "secrets file named in the environment": (
        ["--server.address", "0.0.0.0"],
        {"STREAMLIT_SECRETS_FILES": "{case}/auth.toml"},
        {"auth.toml": AUTH},
        True,
    ),
    "project secrets": (["--server.address", "0.0.0.0"], {}, {"project/.streamlit/secrets.toml": AUTH}, True),
    "home secrets": ([], {}, {"home/.streamlit/secrets.toml": AUTH}, True),
    "secrets without [auth]": (
        ["--server.address", "0.0.0.0"],
        {},
        {"project/.streamlit/secrets.toml": '[other]\nkey = "value"\n'},
        True,
    ),
    "secrets files in the config": (
        ["--server.address", "0.0.0.0"],
        {},
        {"project/.streamlit/config.toml": '[secrets]\nfiles = ["{case}/auth.toml"]\n', "auth.toml": AUTH},
        True,
    ),
    "a config file that is not TOML": (
        [],
        {},
        {"project/.streamlit/config.toml": "[server\naddress = 0.0.0.0\n"},
        False,
    ),
    "a secrets folder": (["--server.address", "0.0.0.0"], {}, {"project/.streamlit/secrets.toml/auth": "x"}, False),
}


def both_readings(cases: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """Each case through the early check, then through the launcher's own path on Streamlit's settings (its click
    command, bootstrap.load_config_options, st.secrets) with serving replaced; in this process, whose Streamlit
    settings, secrets, environment and folder are put back afterwards."""
    from streamlit import config
    from streamlit.runtime import credentials, secrets
    from streamlit.web import bootstrap

    from ui import launch, launch_check

    monkeypatch.setattr(bootstrap, "run", lambda *args, **kwargs: print("SERVED", file=sys.stderr))
    monkeypatch.setattr(credentials, "check_credentials", lambda: None)
    monkeypatch.setattr(config, "_config_options", config._config_options)  # each case parses its own
    monkeypatch.setattr(config, "_main_script_path", config._main_script_path)
    monkeypatch.setattr(secrets.secrets_singleton, "_secrets", secrets.secrets_singleton._secrets)
    environ, cwd = dict(os.environ), Path.cwd()
    answers = {}
    try:
        for name, case in cases.items():
            os.environ.clear()
            os.environ.update(case["env"])
            os.chdir(case["cwd"])
            secrets.secrets_singleton._secrets = None  # read the secrets files again, for this case
            early = launch_check.early_refusal(case["argv"], os.environ, launch.DASHBOARD, Path.cwd())
            shown = io.StringIO()
            with contextlib.redirect_stderr(shown), contextlib.suppress(SystemExit):
                launch.serve(case["argv"])
            lines = [line for line in shown.getvalue().splitlines() if line.startswith(("Refusing", "SERVED"))]
            answers[name] = {"early": "unsure" if early is launch_check.UNSURE else early, "streamlit": lines}
    finally:
        os.environ.clear()
        os.environ.update(environ)
        os.chdir(cwd)
    return answers


def test_the_early_check_reads_the_settings_as_streamlit_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The launcher refuses before loading Streamlit (a refused start in a tenth of the CPU) only where its reading
    of flags, environment, config and secrets files gives Streamlit's answer; anything else it leaves to Streamlit."""
    cases = {}
    for number, (name, (flags, extra, files, _decided)) in enumerate(SETTINGS_CASES.items()):
        case = tmp_path / str(number)
        (case / "home").mkdir(parents=True)
        (case / "project").mkdir()
        for relative, text in files.items():
            (case / relative).parent.mkdir(parents=True, exist_ok=True)
            (case / relative).write_text(text.replace("{case}", str(case)))
        env = (
            environment(case)
            | {"HOME": str(case / "home")}
            | {k: v.replace("{case}", str(case)) for k, v in extra.items()}
        )
        if any("secrets.toml" in relative or "[secrets]" in text for relative, text in files.items()):
            # the secrets files of Streamlit's default places, or those the config names, not an empty file of ours
            del env["STREAMLIT_SECRETS_FILES"]
        cases[name] = {"argv": [*FLAGS, "--server.port", "8", *flags], "env": env, "cwd": str(case / "project")}
    answers = both_readings(cases, monkeypatch)
    for name, (_flags, _extra, _files, decided) in SETTINGS_CASES.items():
        early, streamlit = answers[name]["early"], answers[name]["streamlit"]
        assert streamlit in (["SERVED"], [streamlit[0]]) and len(streamlit) == 1, (name, streamlit)
        if decided:
            assert early == (None if streamlit == ["SERVED"] else streamlit[0]), (name, early, streamlit)
        else:
            assert early == "unsure", (name, early)
    served = {name for name, answer in answers.items() if answer["streamlit"] == ["SERVED"]}
    assert served == {
        "local flag",
        "bracketed ::1",
        "flag over environment",
        "project config over home",
        "config env: value",
        "environment over config",
        "secrets file named in the environment",
        "project secrets",
        "home secrets",
        "secrets files in the config",
    }


def serve(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def test_on_localhost_it_serves_with_the_local_mode_banner(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "ui.launch", *FLAGS, "--server.port", str(port), "--server.address", "127.0.0.1"]
    server = serve(command, environment(tmp_path), tmp_path / "server.log")
    try:
        wait_for_health(f"http://127.0.0.1:{port}", server)
        page = shown(first_page(f"http://127.0.0.1:{port}"))
    finally:
        stop(server)
    assert "Local mode" in page and "Refusing" not in page


def test_with_sign_in_configured_it_serves_on_every_interface(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "ui.launch", *FLAGS, "--server.port", str(port), "--server.address", "0.0.0.0"]
    server = serve(command, environment(tmp_path, AUTH), tmp_path / "server.log")
    try:
        wait_for_health(f"http://127.0.0.1:{port}", server)
        page = shown(first_page(f"http://127.0.0.1:{port}"))
    finally:
        stop(server)
    assert "Sign in" in page and "Local mode" not in page and "Refusing" not in page


def test_streamlit_run_without_the_launcher_stops_at_its_first_page(tmp_path: Path) -> None:
    """Bypassing the launcher, the server answers until the first page is asked for, then writes the reason and stops."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "dashboard.py", *FLAGS, "--server.port", str(port)]
    server = serve([*command, "--server.address", "0.0.0.0"], environment(tmp_path), tmp_path / "server.log")
    try:
        wait_for_health(f"http://127.0.0.1:{port}", server)
        page = shown(first_page(f"http://127.0.0.1:{port}"))
        server.wait(timeout=60)
    finally:
        if server.poll() is None:
            stop(server)
    log = (tmp_path / "server.log").read_text()
    assert log.count(REFUSAL) == 1 and not listening(port)
    assert "Local mode" not in page and "Store:" not in page
