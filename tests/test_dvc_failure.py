"""A failed `dvc push` / `dvc pull` told in a few readable lines: what failed (which remote, where),
DVC's cause once (no Python path, no DVC command line, no repeat per object), and the command to
rerun as the hint."""

from __future__ import annotations

from pathlib import Path

from mlcode.adapters.dvc_failure import cause, remote_failure

REPEATED = "\n".join(
    [
        "\x1b[31mERROR\x1b[39m: failed to transfer 'md5: 6d7fce9fee471194aa8b5b6e47267f03' - "
        'Could not connect to the endpoint URL: "http://127.0.0.1:9/b/dvc/files/md5/6d/7fce"',
        *(
            f"ERROR: failed to transfer 'md5: {h * 32}' - Could not connect to the endpoint "
            f'URL: "http://127.0.0.1:9/b/dvc/files/md5/{h * 2}/{h * 30}"'
            for h in "abcdef0123"
        ),
        "ERROR: failed to push data to the cloud - 11 files failed to upload",
        "",
        "Having any troubles? Hit us up at https://dvc.org/support, we are always happy to help!",
    ]
)


def test_cause_keeps_each_distinct_error_once_and_drops_dvc_boilerplate() -> None:
    text = cause(REPEATED)
    lines = text.splitlines()
    assert lines[0].startswith("failed to transfer 'md5: 6d7fce9fee471194aa8b5b6e47267f03' - ")
    assert "(and 10 more like it)" in lines[0]
    assert lines[1] == "failed to push data to the cloud - 11 files failed to upload"
    assert len(lines) == 2
    assert "\x1b" not in text
    assert "Having any troubles" not in text


def test_cause_is_capped() -> None:
    many = "\n".join(f"ERROR: reason number {word} went wrong" for word in "abcdefghij")
    text = cause(many + "\n" + "ERROR: " + "x" * 5000)
    assert len(text.splitlines()) <= 3
    assert len(text) <= 600
    assert cause("") == "DVC gave no reason"


def test_unexpected_error_prefix_is_dropped() -> None:
    out = (
        "ERROR: unexpected error - The Access Key Id you provided does not exist in our records."
        ": An error occurred (InvalidAccessKeyId) when calling the ListObjectsV2 operation\n\n"
        "Having any troubles? Hit us up at https://dvc.org/support, we are always happy to help!\n"
    )
    assert cause(out).startswith("The Access Key Id you provided does not exist")


def test_the_failure_names_the_remote_its_url_and_the_rerun(git_repo: Path) -> None:
    (git_repo / ".dvc").mkdir()
    (git_repo / ".dvc" / "config").write_text(
        "[core]\n    remote = s3-storage\n['remote \"s3-storage\"']\n    url = s3://bucket/path\n"
    )
    err = remote_failure(
        git_repo, ["push", "--run-cache", "--with-deps", "evaluate_iris"], REPEATED, exit_code=1
    )
    first = err.message.splitlines()[0]
    assert first.startswith(
        "`dvc push` to the DVC remote 's3-storage' (s3://bucket/path) failed (exit 1): "
        "failed to transfer"
    )
    assert "python" not in err.message
    assert "-m dvc" not in err.message
    assert err.hint is not None
    assert err.hint.endswith("then rerun: dvc push --run-cache --with-deps evaluate_iris")
    # `-r NAME` names another remote than the default
    pull = remote_failure(git_repo, ["pull", "-r", "other", "data/x.csv"], "ERROR: gone", 1)
    assert pull.message.startswith("`dvc pull` from the DVC remote 'other' failed (exit 1): gone")
