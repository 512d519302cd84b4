"""A tiny stand-in for the GitHub CLI (`gh`, not installed here) for the CI job runner's tests: the
few commands the generated workflows call, each as the REST call it makes, against the API in
GITHUB_API_URL (the forge contract server), with GH_TOKEN and GH_REPO as gh reads them.

- `gh workflow run FILE --ref BRANCH` → POST /repos/{repo}/actions/workflows/{FILE}/dispatches
- `gh api PATH [--method M] [-f key=value]... [--paginate] [--jq EXPR] [--silent]` → the request;
  `--jq` through the `jq` program (`-r`, as gh prints strings raw)
- `gh pr list --head BRANCH --state STATE --json number --jq EXPR` → GET /repos/{repo}/pulls
  (gh itself asks GraphQL; the contract server plays REST only)

One exception, said out loud on stderr: `gh api repos/{repo}/branches/{branch}` is answered from
the git origin (`git ls-remote`), because that operation is not in the vendored slice of GitHub's
OpenAPI description the contract server checks against.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
    "User-Agent": "mlcode-tests-gh-shim",
}


def _request(method: str, path: str, body: Any = None) -> tuple[int, Any, dict[str, str]]:
    url = (
        path if "://" in path else os.environ["GITHUB_API_URL"].rstrip("/") + "/" + path.lstrip("/")
    )
    data = None if body is None else json.dumps(body).encode()
    headers = {**HEADERS, "Authorization": f"Bearer {os.environ['GH_TOKEN']}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw = error.read()
        print(f"gh: HTTP {error.code}: {raw.decode(errors='replace')}", file=sys.stderr)
        raise SystemExit(1) from None


def _jq(value: Any, expression: str) -> None:
    proc = subprocess.run(
        ["jq", "-r", expression],
        input=json.dumps(value),
        text=True,
        capture_output=True,
        check=False,
    )
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(proc.returncode)


def _api(args: list[str]) -> int:
    path, method, fields, paginate, jq, silent = None, None, {}, False, None, False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("--method", "-X"):
            method = args[i + 1]
            i += 2
        elif arg in ("-f", "--raw-field"):
            key, value = args[i + 1].split("=", 1)
            fields[key] = value
            i += 2
        elif arg == "--paginate":
            paginate = True
            i += 1
        elif arg in ("--jq", "-q"):
            jq = args[i + 1]
            i += 2
        elif arg == "--silent":
            silent = True
            i += 1
        elif arg.startswith("-"):
            print(f"gh shim: unsupported option {arg}", file=sys.stderr)
            return 2
        else:
            path = arg
            i += 1
    if path is None:
        print("gh shim: api needs a path", file=sys.stderr)
        return 2
    branch = re.fullmatch(r"repos/[^/]+/[^/]+/branches/(.+)", path)
    if branch is not None and method in (None, "GET"):
        print(
            "gh shim: GET branches/{branch} is not in the vendored OpenAPI slice: answered from "
            "the git origin (git ls-remote)",
            file=sys.stderr,
        )
        found = subprocess.run(
            ["git", "ls-remote", "--exit-code", "--heads", "origin", f"refs/heads/{branch[1]}"],
            capture_output=True,
            check=False,
        )
        if found.returncode != 0:
            print("gh: Branch not found (HTTP 404)", file=sys.stderr)
            return 1
        if not silent:
            print(json.dumps({"name": branch[1]}))
        return 0
    chosen = method or ("POST" if fields else "GET")
    _, value, headers = _request(chosen, path, fields or None)
    pages = [value]
    while paginate and chosen == "GET":
        link = re.search(r'<([^>]+)>;\s*rel="next"', headers.get("Link", ""))
        if link is None:
            break
        _, value, headers = _request("GET", link[1])
        pages.append(value)
    if silent:
        return 0
    for page in pages:
        if jq is not None:
            _jq(page, jq)
        elif page is not None:
            print(json.dumps(page))
    return 0


def _option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def main(argv: list[str]) -> int:
    repo = os.environ.get("GH_REPO", "")
    if argv[:2] == ["workflow", "run"]:
        workflow, ref = argv[2], _option(argv, "--ref")
        extra = [a for a in argv[3:] if a not in ("--ref", ref)]
        if ref is None or extra:
            print(f"gh shim: unsupported workflow run arguments {argv[2:]}", file=sys.stderr)
            return 2
        _request("POST", f"repos/{repo}/actions/workflows/{workflow}/dispatches", {"ref": ref})
        print(f"✓ Created workflow_dispatch event for {workflow} at {ref}")
        return 0
    if argv[:1] == ["api"]:
        return _api(argv[1:])
    if argv[:2] == ["pr", "list"]:
        head, state = _option(argv, "--head"), _option(argv, "--state") or "open"
        owner = repo.split("/")[0]
        query = f"?state={state}" + (f"&head={owner}:{head}" if head else "")
        _, pulls, _ = _request("GET", f"repos/{repo}/pulls{query}")
        fields = (_option(argv, "--json") or "number").split(",")
        rows = [{key: pull.get(key) for key in fields} for pull in pulls]
        jq = _option(argv, "--jq")
        if jq is not None:
            _jq(rows, jq)
        else:
            print(json.dumps(rows))
        return 0
    print(f"gh shim: unsupported command {argv}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
