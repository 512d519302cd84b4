"""Datasets with a `source`, through the real DVC: apply imports a url-sourced dataset (`dvc
import-url`), `refresh_sources` brings new data in (`dvc update`) and `mlcode run` retrains on it;
an ingest command runs as the stage before prepare. A failing source or new data with another
schema leaves the tree exactly as it was."""

from __future__ import annotations

import hashlib
import http.server
import json
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlcode.errors import UserError
from mlcode.project.apply import SIGNAL_SEAM
from mlcode.project.refresh import refresh_sources
from mlcode.spec.load import load_project
from tests.e2e.helpers import BIN, env, git, mlcode, snapshot
from tests.e2e.s3server import ACCESS_KEY, SECRET_KEY, S3Server

pytestmark = pytest.mark.slow

PATH_LINE = "    path: data/iris.csv            # versioned by DVC, never by git\n"

State = tuple[dict[str, bytes], str, bytes]


def _state(root: Path) -> State:
    return (snapshot(root), git(root, "ls-files", "-s"), (root / ".dvc" / "config").read_bytes())


def _declare(root: Path, source: str) -> None:
    spec = root / "ml.yaml"
    text = spec.read_text()
    assert PATH_LINE in text
    spec.write_text(text.replace(PATH_LINE, PATH_LINE + f"    source: {source}\n"))


def _ok(root: Path, *args: str) -> str:
    result = mlcode(root, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


class _ETagHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with an ETag (the md5 of the bytes): DVC records it as the dependency's
    checksum, so `dvc update` sees a change even within one second at the same size."""

    def end_headers(self) -> None:
        path = Path(self.translate_path(self.path))
        if path.is_file():
            self.send_header("ETag", f'"{hashlib.md5(path.read_bytes()).hexdigest()}"')
        super().end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """(base URL, folder) of an HTTP server on 127.0.0.1 serving the folder."""
    folder = tmp_path / "served"
    folder.mkdir()

    def handler(*args: object) -> _ETagHandler:
        return _ETagHandler(*args, directory=str(folder))  # type: ignore[arg-type]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()


def _pointer(root: Path) -> dict[str, object]:
    import yaml

    doc = yaml.safe_load((root / "data/iris.csv.dvc").read_text())
    assert isinstance(doc, dict)
    return doc


def _refresh(root: Path) -> list[dict[str, object]]:
    return refresh_sources(root, load_project(root).spec).to_json()


def test_local_source_imported_refreshed_and_retrained(
    trained_iris: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = trained_iris
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    external = tmp_path / "shared" / "iris.csv"
    external.parent.mkdir()
    shutil.copyfile(root / "data/iris.csv", external)
    _declare(root, f"{{url: {external}}}")
    plan = _ok(root, "plan", "--no-status")
    assert f"+ data/iris.csv (dvc import-url {external}" in plan
    planned = json.loads(_ok(root, "plan", "--no-status", "--json"))
    assert planned["imports"] == {"data/iris.csv": str(external)}
    assert planned["track"] == []
    _ok(root, "apply", "--auto-approve")
    assert _pointer(root)["deps"][0]["path"] == str(external)  # type: ignore[index]
    assert "No changes" in _ok(root, "plan", "--no-status")
    assert mlcode(root, "check").returncode == 0
    git(root, "commit", "-qm", "iris comes from the shared folder")

    # another source: the next apply imports from it
    moved = tmp_path / "moved" / "iris.csv"
    moved.parent.mkdir()
    shutil.copyfile(external, moved)
    (root / "ml.yaml").write_text((root / "ml.yaml").read_text().replace(str(external), str(moved)))
    assert f"dvc import-url {moved}" in _ok(root, "plan", "--no-status")
    _ok(root, "apply", "--auto-approve")
    assert _pointer(root)["deps"][0]["path"] == str(moved)  # type: ignore[index]
    git(root, "commit", "-qm", "iris comes from elsewhere")
    external = moved

    (report,) = _refresh(root)
    assert report["changed"] is False
    assert report["old_md5"] == report["new_md5"]

    rows = external.read_text().splitlines(keepends=True)
    external.write_text("".join(rows[: len(rows) * 2 // 3]))  # a new batch: fewer rows
    (report,) = _refresh(root)
    assert report["changed"] is True
    assert report["old_md5"] != report["new_md5"]
    assert _pointer(root)["outs"][0]["md5"] == report["new_md5"]  # type: ignore[index]
    assert (root / "data/iris.csv").read_bytes() == external.read_bytes()
    ran = json.loads(_ok(root, "run", "--json"))
    assert ran["ran"] is True
    assert "prepare_iris" in (root / "dvc.lock").read_text()


def test_http_source_and_a_failing_one(
    trained_iris: Path, served: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = trained_iris
    base, folder = served
    shutil.copyfile(root / "data/iris.csv", folder / "iris.csv")
    _declare(root, f"{{url: '{base}/iris.csv'}}")
    _ok(root, "apply", "--auto-approve")
    dep = _pointer(root)["deps"][0]  # type: ignore[index]
    assert dep["path"] == f"{base}/iris.csv"
    assert dep["checksum"]
    git(root, "commit", "-qm", "iris over http")

    # new data with another schema: a declared column gone, another no longer a number
    text = (folder / "iris.csv").read_text().replace("petal_width_cm,", "petal_cm,", 1)
    lines = text.splitlines()
    lines[1] = "unknown," + lines[1].split(",", 1)[1]
    (folder / "iris.csv").write_text("\n".join(lines) + "\n")
    before = _state(root)
    with pytest.raises(UserError) as caught:
        _refresh(root)
    message = str(caught.value)
    assert "'iris'" in message
    assert "petal_width_cm" in message
    assert "sepal_length_cm (number → text)" in message
    assert _state(root) == before

    # the source fails: the error names the dataset and the URL; nothing changes
    (folder / "iris.csv").unlink()
    with pytest.raises(UserError) as caught:
        _refresh(root)
    assert "'iris'" in str(caught.value)
    assert f"{base}/iris.csv" in str(caught.value)
    # DVC's reason, without the interpreter's path or DVC's help footer
    assert "`dvc update data/iris.csv.dvc`" in str(caught.value)
    assert sys.executable not in str(caught.value)
    assert "Having any troubles" not in str(caught.value)
    assert _state(root) == before


def test_a_numeric_feature_turned_to_text_is_refused_without_the_old_data(
    trained_iris: Path, served: tuple[str, Path]
) -> None:
    """A fresh clone (a CI runner) has no old data on disk to compare kinds with: a feature
    ml.yaml declares numeric that the new data holds as text is still refused at the refresh,
    and the tree is left as it was (no data file left behind)."""
    root = trained_iris
    base, folder = served
    shutil.copyfile(root / "data/iris.csv", folder / "iris.csv")
    _declare(root, f"{{url: '{base}/iris.csv'}}")
    _ok(root, "apply", "--auto-approve")
    git(root, "commit", "-qm", "iris over http")
    (root / "data/iris.csv").unlink()  # as in a clone before `dvc pull`
    lines = (folder / "iris.csv").read_text().splitlines()
    lines[1] = "12 cm," + lines[1].split(",", 1)[1]
    (folder / "iris.csv").write_text("\n".join(lines) + "\n")
    before = _state(root)
    with pytest.raises(UserError) as caught:
        _refresh(root)
    assert "sepal_length_cm (declared numeric → text)" in str(caught.value)
    assert _state(root) == before


def test_apply_of_an_unreachable_source_changes_nothing(
    trained_iris: Path, served: tuple[str, Path]
) -> None:
    root = trained_iris
    base, _ = served
    _declare(root, f"{{url: '{base}/missing.csv'}}")
    git(root, "add", "ml.yaml")
    before = _state(root)
    failed = mlcode(root, "apply", "--auto-approve")
    assert failed.returncode != 0
    assert "dvc import-url of dataset data/iris.csv" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert _state(root) == before


def test_ingest_command_runs_before_prepare(trained_iris: Path) -> None:
    root = trained_iris
    (root / "raw").mkdir()
    shutil.copyfile(root / "data/iris.csv", root / "raw/iris.csv")
    (root / "ingest.py").write_text(
        "import shutil\nshutil.copyfile('raw/iris.csv', 'data/iris.csv')\n"
    )
    _declare(root, "{cmd: python ingest.py, deps: [ingest.py, raw/iris.csv]}")
    refused = mlcode(root, "apply", "--auto-approve")
    assert refused.returncode == 3
    assert "dvc remove data/iris.csv.dvc" in refused.stderr
    git(root, "rm", "-q", "--cached", "data/iris.csv.dvc")
    (root / "data/iris.csv.dvc").unlink()
    _ok(root, "apply", "--auto-approve")
    assert not (root / "data/iris.csv.dvc").exists()
    with (root / "raw/iris.csv").open("a") as handle:
        handle.write("5.0,3.3,1.4,0.2,setosa\n")
    ran = json.loads(_ok(root, "run", "--json"))
    assert ran["ran"] is True
    assert (root / "data/iris.csv").read_bytes() == (root / "raw/iris.csv").read_bytes()
    lock = (root / "dvc.lock").read_text()
    assert "ingest_iris:" in lock
    (report,) = _refresh(root)
    assert report["kind"] == "cmd"
    assert report["outcome"].startswith("refreshed by the pipeline")


@pytest.mark.parametrize(
    ("point", "sig"),
    [
        ("import-rescue", "INT"),
        ("import-url:data/iris.csv", "INT"),
        ("import-url:data/iris.csv", "KILL"),
    ],
)
def test_interrupted_import_rolls_back_or_completes(
    trained_iris: Path, tmp_path: Path, point: str, sig: str
) -> None:
    root = trained_iris
    external = tmp_path / "shared" / "iris.csv"
    external.parent.mkdir()
    shutil.copyfile(root / "data/iris.csv", external)
    _declare(root, f"{{url: {external}}}")
    git(root, "add", "ml.yaml")
    reference = shutil.copytree(root.parent, tmp_path / "reference", symlinks=True) / root.name
    _ok(reference, "apply", "--auto-approve")
    before = _state(root)
    hurt = subprocess.run(
        [str(BIN / "mlcode"), "apply", "--auto-approve"],
        cwd=root,
        env={**env(), SIGNAL_SEAM: f"{point}:{sig}"},
        capture_output=True,
        text=True,
        check=False,
    )
    if sig == "INT":
        assert hurt.returncode == 130, hurt.stdout + hurt.stderr
        assert _state(root) == before  # Ctrl-C rolls the import back
    else:
        assert hurt.returncode == -signal.SIGKILL
        assert mlcode(root, "plan", "--no-status", "--detailed-exitcode").returncode == 2
    _ok(root, "apply", "--auto-approve")
    assert _state(root) == _state(reference)


def test_s3_source_with_credentials_from_the_environment(
    trained_iris: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = trained_iris
    server = S3Server(tmp_path / "s3")
    server.start()
    try:
        (server.root / "mlcode" / "batches").mkdir(parents=True)
        batch = server.root / "mlcode" / "batches" / "iris.csv"
        shutil.copyfile(root / "data/iris.csv", batch)
        monkeypatch.setenv("AWS_ENDPOINT_URL", server.endpoint)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        _declare(root, "{url: 's3://mlcode/batches/iris.csv'}")
        out = _ok(root, "apply", "--auto-approve")
        assert SECRET_KEY not in out
        assert _pointer(root)["deps"][0]["etag"]  # type: ignore[index]
        assert SECRET_KEY.encode() not in (root / "data/iris.csv.dvc").read_bytes()
        with batch.open("a") as handle:
            handle.write("5.0,3.3,1.4,0.2,setosa\n")
        (report,) = _refresh(root)
        assert report["changed"] is True
        assert (root / "data/iris.csv").read_bytes() == batch.read_bytes()
    finally:
        server.stop()
