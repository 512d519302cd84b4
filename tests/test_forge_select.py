"""Choosing a forge client from plain values: the repository from the git remote URL, the API base
from its host (or the stack's URL), the token from the environment variable the stack names."""

from __future__ import annotations

import socket

import pytest

from mlcode.errors import UserError
from mlcode.forge.github import GitHubForge
from mlcode.forge.gitlab import GitLabForge
from mlcode.forge.none import NoForge
from mlcode.forge.remote import RemoteRepo, parse_remote, redact_url
from mlcode.forge.select import make_forge

SECRET = "sentinel-select-8e7d6c"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://github.com/octo-org/models.git",
            RemoteRepo("https", "github.com", None, "octo-org/models"),
        ),
        (
            "https://github.com/octo-org/models",
            RemoteRepo("https", "github.com", None, "octo-org/models"),
        ),
        (
            "git@github.com:octo-org/models.git",
            RemoteRepo("ssh", "github.com", None, "octo-org/models"),
        ),
        (
            "ssh://git@github.com/octo-org/models.git",
            RemoteRepo("ssh", "github.com", None, "octo-org/models"),
        ),
        (
            "ssh://git@gitlab.corp.test:2222/g/sub/p.git",
            RemoteRepo("ssh", "gitlab.corp.test", 2222, "g/sub/p"),
        ),
        (
            "https://x-access-token:tok@GHE.corp.test:8443/o/r.git/",
            RemoteRepo("https", "ghe.corp.test", 8443, "o/r"),
        ),
        ("git+ssh://git@host.test/o/r", RemoteRepo("ssh", "host.test", None, "o/r")),
        (
            "deploy@gitlab.corp.test:group/project.git",
            RemoteRepo("ssh", "gitlab.corp.test", None, "group/project"),
        ),
    ],
)
def test_remote_urls_name_host_and_repository(url: str, expected: RemoteRepo) -> None:
    assert parse_remote(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "/srv/git/models.git",
        "../origin.git",
        "file:///srv/git/models.git",
        "https://github.com/",
        "https://github.com/just-owner",
        "C:/repos/x",
    ],
)
def test_a_remote_that_names_no_forge_repository_is_a_clear_error(url: str) -> None:
    with pytest.raises(UserError, match="does not name a repository on a forge host"):
        parse_remote(url)


def test_credentials_in_a_remote_url_never_appear_in_an_error() -> None:
    with pytest.raises(UserError) as caught:
        parse_remote(f"https://user:{SECRET}@github.com/")
    assert SECRET not in caught.value.render()
    assert "https://***@github.com/" in caught.value.render()
    assert redact_url(f"ssh://git:{SECRET}@h/x") == "ssh://***@h/x"


def github(remote: str, api_url: str | None = None) -> GitHubForge:
    forge = make_forge(
        "github",
        api_url=api_url,
        token_env="GH_TOKEN",
        remote_url=remote,
        environ={"GH_TOKEN": SECRET},
    )
    assert isinstance(forge, GitHubForge)
    return forge


def test_github_com_uses_api_github_com() -> None:
    forge = github("git@github.com:octo-org/models.git")
    assert (forge.http.base_url, forge.owner, forge.repo) == (
        "https://api.github.com",
        "octo-org",
        "models",
    )


def test_github_enterprise_uses_its_own_host_under_api_v3() -> None:
    assert github("https://ghe.corp.test/o/r.git").http.base_url == "https://ghe.corp.test/api/v3"
    assert (
        github("https://ghe.corp.test:8443/o/r.git").http.base_url
        == "https://ghe.corp.test:8443/api/v3"
    )
    assert (
        github("ssh://git@ghe.corp.test:2222/o/r.git").http.base_url
        == "https://ghe.corp.test/api/v3"
    )


def test_the_stack_s_api_url_wins() -> None:
    assert (
        github("git@ghe.corp.test:o/r.git", api_url="https://api.ghe.corp.test/v3/").http.base_url
        == "https://api.ghe.corp.test/v3"
    )


def test_github_needs_owner_and_repository() -> None:
    with pytest.raises(UserError, match="does not name a GitHub repository OWNER/REPO"):
        github("https://github.com/a/b/c.git")


def test_gitlab_takes_groups_and_its_own_host() -> None:
    forge = make_forge(
        "gitlab",
        api_url=None,
        token_env="GL",
        remote_url="git@gitlab.corp.test:g/sub/p.git",
        environ={"GL": SECRET},
    )
    assert isinstance(forge, GitLabForge)
    assert (forge.http.base_url, forge.project) == ("https://gitlab.corp.test/api/v4", "g/sub/p")
    saas = make_forge(
        "gitlab",
        api_url=None,
        token_env="GL",
        remote_url="https://gitlab.com/g/p.git",
        environ={"GL": SECRET},
    )
    assert isinstance(saas, GitLabForge)
    assert saas.http.base_url == "https://gitlab.com/api/v4"


@pytest.mark.parametrize("kind", ["github", "gitlab"])
def test_a_missing_token_names_the_variable(kind: str) -> None:
    for environ in ({}, {"FORGE_TOKEN": ""}, {"FORGE_TOKEN": "  "}):
        with pytest.raises(UserError, match="environment variable FORGE_TOKEN is not set"):
            make_forge(
                kind,
                api_url=None,
                token_env="FORGE_TOKEN",
                remote_url="git@h.test:o/r.git",
                environ=environ,
            )  # type: ignore[arg-type]


def test_no_token_variable_named_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="names no environment variable"):
        make_forge(
            "github", api_url=None, token_env=None, remote_url="git@github.com:o/r.git", environ={}
        )


def test_an_unknown_forge_is_a_clear_error() -> None:
    with pytest.raises(UserError, match="unknown forge 'bitbucket'"):
        make_forge(
            "bitbucket", api_url=None, token_env="T", remote_url="git@h:o/r", environ={"T": "x"}
        )  # type: ignore[arg-type]


def test_an_api_url_that_is_not_http_is_refused() -> None:
    with pytest.raises(UserError, match="is not an http"):
        make_forge(
            "github",
            api_url="file:///etc",
            token_env="T",
            remote_url="git@h.test:o/r",
            environ={"T": "x"},
        )


def test_forge_none_needs_no_token_no_forge_remote_and_no_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the forge none touched the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    forge = make_forge("none", api_url=None, token_env=None, remote_url="../origin.git", environ={})
    assert isinstance(forge, NoForge)
    assert forge.find_open("mlcode/iris/") == []
    outcome = forge.open_or_update(
        head="mlcode/iris/v1.1.0", base="main", title="t", body="b", labels=["x"], reviewers=["y"]
    )
    assert outcome.pull is None
    assert outcome.action == "none"
    assert (
        outcome.message
        == "git log --oneline main..mlcode/iris/v1.1.0\ngit diff main...mlcode/iris/v1.1.0"
    )


def test_ssh_over_443_hosts_still_use_the_public_apis() -> None:
    assert github("ssh://git@ssh.github.com:443/o/r.git").http.base_url == "https://api.github.com"
    forge = make_forge(
        "gitlab",
        api_url=None,
        token_env="GL",
        remote_url="ssh://git@altssh.gitlab.com:443/g/p.git",
        environ={"GL": SECRET},
    )
    assert isinstance(forge, GitLabForge)
    assert forge.http.base_url == "https://gitlab.com/api/v4"


@pytest.mark.parametrize(
    "api_url", ["http://gitlab.corp.test/api/v4", "http://10.0.0.5:8080/api/v4"]
)
def test_a_plain_http_api_off_this_machine_is_refused(api_url: str) -> None:
    with pytest.raises(
        UserError, match=r"plain http: the token in \$GL would cross the network in clear text"
    ):
        make_forge(
            "gitlab",
            api_url=api_url,
            token_env="GL",
            remote_url="git@h.test:g/p.git",
            environ={"GL": SECRET},
        )


@pytest.mark.parametrize(
    "api_url", ["http://127.0.0.1:8929/api/v4", "http://localhost/api/v4", "http://[::1]:80/api/v4"]
)
def test_plain_http_on_this_machine_is_allowed(api_url: str) -> None:
    forge = make_forge(
        "gitlab",
        api_url=api_url,
        token_env="GL",
        remote_url="git@h.test:g/p.git",
        environ={"GL": SECRET},
    )
    assert isinstance(forge, GitLabForge)
