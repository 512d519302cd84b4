"""The SSH stack's remote for real: Debian's OpenSSH server started by the test on a loopback
port, a DVC `ssh` remote on it (the github-ssh preset's remote, pointed at this server), and
`mlcode promote` pushing the model's data over SSH before any git ref leaves: afterwards the
server's folder holds every object the promotion tag points to.

Skipped, saying why, only where sshd or DVC's ssh plugin is missing (`.ci/run` installs both).
"""

from __future__ import annotations

import getpass
import importlib.util
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.dvc_objects import missing_in_store
from tests.e2e.helpers import BIN, env, git, mlcode

SSHD = Path("/usr/sbin/sshd")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SSHD.exists(), reason="needs OpenSSH's server (Debian: openssh-server)"),
    pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen"),
    pytest.mark.skipif(
        importlib.util.find_spec("dvc_ssh") is None, reason="needs DVC's ssh plugin (dvc-ssh)"
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[tuple[int, Path, Path]]:
    """(port, client key, store folder) of an sshd on 127.0.0.1 accepting only that key."""
    base = tmp_path / "sshd"
    base.mkdir()
    for name in ("host", "client"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(base / name)], check=True
        )
    (base / "authorized_keys").write_text((base / "client.pub").read_text())
    port = _free_port()
    config = base / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {base / 'host'}\n"
        f"PidFile {base / 'sshd.pid'}\nAuthorizedKeysFile {base / 'authorized_keys'}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    proc = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.skip(f"sshd cannot start here: {err.strip()[:300]}")
            if time.monotonic() > deadline:
                proc.kill()
                pytest.skip("sshd did not listen within 15 s")
            time.sleep(0.05)
    store = tmp_path / "ssh-store"
    store.mkdir()
    yield port, base / "client", store
    proc.terminate()
    proc.wait(timeout=10)


def test_promote_pushes_data_over_ssh_before_the_branch(
    trained_iris: Path, sshd: tuple[int, Path, Path]
) -> None:
    port, key, store = sshd
    repo = trained_iris
    user = getpass.getuser()
    preset = (Path(__file__).resolve().parents[2] / "stacks" / "github-ssh.yaml").read_text()
    stack = preset.split("remote:", 1)[1].split("git_remote:", 1)[0]
    stack = stack.replace(
        "ssh://dvc@storage.example.com/srv/dvc/{project}", f"ssh://{user}@127.0.0.1:{port}{store}"
    )
    stack = "\n".join(
        line for line in stack.splitlines() if "known_hosts_env" not in line
    )  # host-key pinning is the generated GitHub step's job (tests/e2e/test_ssh_host_keys.py)
    (repo / "ssh.yaml").write_text(f"name: ssh-loopback\nci: none\nremote:{stack}\n")
    spec = (repo / "ml.yaml").read_text().replace("stack: local", "stack: ssh.yaml")
    (repo / "ml.yaml").write_text(spec)
    applied = mlcode(repo, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    subprocess.run(
        [str(BIN / "dvc"), "remote", "modify", "--local", "ssh-storage", "keyfile", str(key)],
        cwd=repo,
        env=env(),
        check=True,
        capture_output=True,
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "DVC remote over SSH")
    git(repo, "push", "-q", "origin", "main")
    (repo / "ml.yaml").write_text(spec.replace("n_estimators: 100", "n_estimators: 60"))
    assert mlcode(repo, "apply", "--auto-approve").returncode == 0
    ran = mlcode(repo, "run")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "iris: 60 trees")
    git(repo, "push", "-q", "origin", "main")

    promoted = mlcode(repo, "promote")
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    tags = git(repo, "ls-remote", "--tags", "origin", "iris@v*").split()
    assert tags, "no version tag reached the origin"
    assert missing_in_store(repo, tags[0], store) == []
    assert any(store.rglob("*.dir"))  # the model folder's manifest travelled over SSH
