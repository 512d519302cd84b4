"""The github-ssh workflow checks the DVC remote's host key for real, never trusting an unknown one.

DVC's ssh remote connects through asyncssh with host-key checking switched off (dvc-ssh passes
`known_hosts=None`). The generated step routes that connection through OpenSSH (`ProxyCommand
ssh -W`) with the stack's pinned known_hosts and StrictHostKeyChecking. These tests run the
generated step's own script, then connect the way dvc-ssh does (asyncssh, `known_hosts=None`,
the ProxyCommand read from ~/.ssh/config) to a real SSH server on 127.0.0.1: the pinned key
connects, any other key fails.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlcode.compile import github
from mlcode.resources import stack_presets
from mlcode.spec.load import parse_spec
from mlcode.spec.stack import Stack
from mlcode.spec.yamlsource import parse

asyncssh = pytest.importorskip("asyncssh")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("ssh") is None, reason="needs the OpenSSH client"),
]

SPEC = """\
version: 1
project: demo
stack: STACK
data:
  d: {path: data/d.csv, target: y, features: {numeric: [a]}}
models:
  m: {task: classification, data: d, estimator: sklearn.linear_model.LogisticRegression}
"""
PIN_STEP = "Pin the DVC remote's SSH host key (strict checking, no unknown hosts)"
RESTORE_STEP = "Restore the SSH client configuration"


class _Server(asyncssh.SSHServer):  # type: ignore[misc]
    """Accepts any client key and forwards `ssh -W` (direct-tcpip) like a stock sshd."""

    def begin_auth(self, username: str) -> bool:
        return True

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: Any) -> bool:
        return True

    def connection_requested(self, *args: Any) -> bool:
        return True


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[int, Any]]:
    """A real SSH server on 127.0.0.1 (port, host key), run in its own event loop thread."""
    host_key = asyncssh.generate_private_key("ssh-ed25519")
    loop = asyncio.new_event_loop()
    acceptor = loop.run_until_complete(
        asyncssh.listen("127.0.0.1", 0, server_host_keys=[host_key], server_factory=_Server)
    )
    port = acceptor.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield port, host_key
    loop.call_soon_threadsafe(acceptor.close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=10)


def _steps(port: int) -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(stack_presets()["github-ssh"].read_text())
    data["remote"]["url"] = f"ssh://dvc@127.0.0.1:{port}/srv/{{project}}"
    stack = Stack.model_validate(data)
    spec = parse_spec(parse(SPEC.replace("STACK", "github-ssh"), "ml.yaml"))
    workflow = yaml.safe_load(github.render(spec, stack)[github.RETRAIN_WORKFLOW])
    [job] = workflow["jobs"].values()
    return {step["name"]: step for step in job["steps"] if "name" in step}


def _run_step(
    step: dict[str, Any], runner: Path, secrets: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """Run a workflow step's script the way GitHub does (`bash -eo pipefail`), secrets filled in."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(runner / "home"),
        "RUNNER_TEMP": str(runner / "tmp"),
    }
    for key, value in step.get("env", {}).items():
        text = str(value)
        for name, secret in secrets.items():
            text = text.replace("${{ secrets." + name + " }}", secret)
        env[key] = text
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def runner(tmp_path: Path) -> Path:
    """A runner's HOME and RUNNER_TEMP, with the client key written where the key step puts it."""
    (tmp_path / "home" / ".ssh").mkdir(parents=True)
    (tmp_path / "tmp").mkdir()
    key = asyncssh.generate_private_key("ssh-ed25519")
    path = tmp_path / "tmp" / "mlcode-remote-keyfile"
    path.write_bytes(key.export_private_key())
    path.chmod(0o600)
    return tmp_path


def _connect_like_dvc(runner: Path, port: int) -> None:
    """What dvc-ssh does: read ~/.ssh/config for the host, then asyncssh with known_hosts=None."""
    from asyncssh.config import SSHClientConfig

    config = SSHClientConfig.load(
        None,
        [runner / "home" / ".ssh" / "config"],
        False,
        False,
        False,
        getpass.getuser(),
        (),
        "127.0.0.1",
        port,
    )
    proxy = config.get("ProxyCommand")
    assert proxy, "the generated ssh config gives DVC no ProxyCommand"

    async def connect() -> None:
        async with asyncssh.connect(
            "127.0.0.1",
            port,
            username="dvc",
            client_keys=[str(runner / "tmp" / "mlcode-remote-keyfile")],
            known_hosts=None,
            proxy_command=proxy,
            connect_timeout=20,
        ):
            pass

    asyncio.run(connect())


def _known_hosts(port: int, key: Any) -> str:
    return f"[127.0.0.1]:{port} {key.export_public_key().decode().strip()}\n"


def test_the_pinned_host_key_connects(server: tuple[int, Any], runner: Path) -> None:
    port, host_key = server
    (runner / "home" / ".ssh" / "config").write_text("Host other\n  User someone\n")
    steps = _steps(port)
    result = _run_step(
        steps[PIN_STEP], runner, {"DVC_SSH_KNOWN_HOSTS": _known_hosts(port, host_key)}
    )
    assert result.returncode == 0, result.stderr
    _connect_like_dvc(runner, port)
    restored = _run_step(steps[RESTORE_STEP], runner, {})
    assert restored.returncode == 0, restored.stderr
    assert (runner / "home" / ".ssh" / "config").read_text() == "Host other\n  User someone\n"


def test_another_host_key_is_refused(server: tuple[int, Any], runner: Path) -> None:
    port, _ = server
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    steps = _steps(port)
    result = _run_step(
        steps[PIN_STEP], runner, {"DVC_SSH_KNOWN_HOSTS": _known_hosts(port, impostor)}
    )
    assert result.returncode == 0, result.stderr
    with pytest.raises((OSError, asyncssh.Error)):
        _connect_like_dvc(runner, port)
    restored = _run_step(steps[RESTORE_STEP], runner, {})
    assert restored.returncode == 0, restored.stderr
    assert not (runner / "home" / ".ssh" / "config").exists()


def test_a_known_hosts_without_the_host_fails_the_step(
    server: tuple[int, Any], runner: Path
) -> None:
    port, host_key = server
    other = f"example.org {host_key.export_public_key().decode().strip()}\n"
    result = _run_step(_steps(port)[PIN_STEP], runner, {"DVC_SSH_KNOWN_HOSTS": other})
    assert result.returncode == 1
    assert f"::error::The known_hosts secret has no key for [127.0.0.1]:{port}" in result.stdout


def test_every_job_pins_before_it_talks_to_the_remote() -> None:
    spec = parse_spec(parse(SPEC.replace("STACK", "github-ssh"), "ml.yaml"))
    stack = Stack.model_validate(yaml.safe_load(stack_presets()["github-ssh"].read_text()))
    checked = set()
    for path, text in github.render(spec, stack).items():
        assert "StrictHostKeyChecking=no" not in text
        assert "accept-new" not in text
        for job_id, job in yaml.safe_load(text)["jobs"].items():
            names = [step.get("name", "") for step in job["steps"]]
            runs = [step.get("run", "") for step in job["steps"]]
            # `mlcode promote --finalize` only reads and pushes git tags: no DVC remote.
            talks = [
                i
                for i, run in enumerate(runs)
                if any(
                    c in run for c in ("dvc pull", "mlcode run", "mlcode retrain", "mlcode gates")
                )
                or ("mlcode promote" in run and "--finalize" not in run)
            ]
            if talks:
                assert PIN_STEP in names, (path, job_id)
                assert names.index(PIN_STEP) < talks[0], (path, job_id)
                assert names.index(RESTORE_STEP) > talks[-1], (path, job_id)
                checked.add(job_id)
    # The PR check job (`run --pull`, gates) and the retrain job (`retrain --pull --push`).
    assert checked == {"check", "retrain"}
