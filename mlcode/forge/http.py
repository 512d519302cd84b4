"""The one HTTP transport of the forge clients: JSON over urllib, bounded retries, no secret shown.

Rate limits (403/429 with `retry-after` or an exhausted `x-ratelimit-remaining`) are waited out
when the wait fits the budget; 5xx answers are retried with a short backoff; everything else becomes
a `ForgeError` whose text names the token's variable and never its value. Redirects are refused, so
the token is never sent to a host the caller did not name. Sleep and clock are injectable.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from mlcode.errors import UserError
from mlcode.forge.remote import redact_url

log = logging.getLogger("mlcode.forge")

USER_AGENT = "mlcode-forge"
JsonValue = Any

# A function that reads a response and says how long the forge asks us to wait (None: not a limit).
RateLimitWait = Callable[["Response", float], float | None]
# A function that reads a 403 answer and gives the forge's own hint for it (None: the usual one).
PermissionHint = Callable[["Response", str], str | None]


class ForgeError(UserError):
    """A forge refused or failed a request; `status` is the HTTP status (0: no answer at all)."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries: attempts per request, total seconds it may wait, 5xx backoff."""

    attempts: int = 4
    max_wait: float = 180.0
    backoff: float = 1.0
    timeout: float = 30.0


@dataclass(frozen=True)
class Response:
    """A forge's answer: status, lower-cased headers, the parsed JSON body (None when empty)."""

    status: int
    headers: Mapping[str, str]
    data: JsonValue

    def message(self) -> str:
        """The forge's own one-line explanation, when its body carries one."""
        data = self.data
        if isinstance(data, Mapping):
            parts = [_flatten(data.get(key)) for key in ("message", "error") if data.get(key)]
            errors = data.get("errors")
            if isinstance(errors, list):
                for item in errors:
                    if isinstance(item, Mapping) and item.get("message"):
                        parts.append(str(item["message"]))
                    elif isinstance(item, Mapping) and item.get("code"):
                        parts.append(f"{item.get('field', '')} {item['code']}".strip())
                    elif isinstance(item, str):
                        parts.append(item)
            return "; ".join(parts)
        if isinstance(data, str):
            return data
        return ""


# Failures worth another try: the connection dropped or timed out (not refused, not unresolvable).
_TRANSIENT = (
    ConnectionResetError,
    ConnectionAbortedError,
    BrokenPipeError,
    TimeoutError,
    http.client.RemoteDisconnected,
    http.client.IncompleteRead,
)


class _Transient(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class HttpClient:
    """JSON requests to one API base URL with one token; `name` is the forge's name for messages."""

    name: str
    base_url: str
    auth_headers: Mapping[str, str]
    token_env: str
    secret: str
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    repository: str = ""
    rate_limit_wait: RateLimitWait | None = None
    permission_hint: PermissionHint | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("https://", "http://")):
            raise UserError(
                f"the {self.name} API URL {redact_url(self.base_url)!r} is not an http(s) URL"
            )
        parts = urlsplit(self.base_url)
        if parts.scheme == "http" and not _loopback(parts.hostname or ""):
            raise UserError(
                f"the {self.name} API URL {redact_url(self.base_url)!r} is plain http: the token in "
                f"${self.token_env} would cross the network in clear text",
                hint="Use the https URL of the API (plain http is only for a server on this machine).",
            )
        self._opener = urllib.request.build_opener(_NoRedirect())

    def redact(self, text: str) -> str:
        """The text with the token (and any credentials in URLs) masked."""
        if self.secret:
            text = text.replace(self.secret, "***")
        return redact_url(text)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str | int] | None = None,
        body: JsonValue = None,
        expect: tuple[int, ...] = (200, 201, 204),
        allow: tuple[int, ...] = (),
        what: str = "",
    ) -> Response:
        """Send one request, retrying what may be retried; statuses in `allow` are returned as is."""
        url = self.base_url.rstrip("/") + path
        if query:
            url += "?" + urlencode({key: str(value) for key, value in query.items()})
        data = None if body is None else json.dumps(body).encode("utf-8")
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._send(method, url, data, what)
            except _Transient as error:
                # A dropped connection or a timeout: retried unless the request creates something
                # (a POST may have landed; its retry is the caller's re-run, which finds it).
                backoff = self._backoff(attempt, waited)
                if method == "POST" or backoff is None:
                    raise self._unreachable(error.reason, what, attempt) from None
                log.info(
                    "%s: %s; retrying in %.0f s", self.name, self.redact(error.reason), backoff
                )
                self.sleep(backoff)
                waited += backoff
                continue
            log.debug("%s %s -> %s", method, self.redact(path), response.status)
            if response.status in expect or response.status in allow:
                return response
            wait = self._retry_after(response)
            if (
                wait is not None
                and attempt < self.policy.attempts
                and waited + wait <= self.policy.max_wait
            ):
                log.info(
                    "%s asks to wait %.0f s (HTTP %s); waiting", self.name, wait, response.status
                )
                self.sleep(wait)
                waited += wait
                continue
            if wait is not None:
                raise self._rate_limited(response, wait, what, attempt)
            backoff = self._backoff(attempt, waited) if response.status >= 500 else None
            if backoff is not None:
                log.info(
                    "%s answered HTTP %s; retrying in %.0f s", self.name, response.status, backoff
                )
                self.sleep(backoff)
                waited += backoff
                continue
            raise self.error(response, what, attempts=attempt)

    def _backoff(self, attempt: int, waited: float) -> float | None:
        """The pause before the next attempt, or None when attempts or the wait budget are spent."""
        if attempt >= self.policy.attempts:
            return None
        backoff = self.policy.backoff * 2 ** (attempt - 1)
        return backoff if waited + backoff <= self.policy.max_wait else None

    def pages(
        self,
        path: str,
        *,
        query: Mapping[str, str | int] | None = None,
        what: str = "",
        limit: int = 50,
    ) -> Iterator[JsonValue]:
        """Every item of a paginated list (page/per_page), at most `limit` pages of 100."""
        for page in range(1, limit + 1):
            response = self.request(
                "GET", path, query={**(query or {}), "per_page": 100, "page": page}, what=what
            )
            items = response.data if isinstance(response.data, list) else []
            yield from items
            if len(items) < 100:
                return

    def _send(self, method: str, url: str, data: bytes | None, what: str) -> Response:
        headers = {
            "User-Agent": USER_AGENT,
            **self.extra_headers,
            **self.auth_headers,
        }
        if data is not None:
            headers["Content-Type"] = "application/json"
        # The scheme is http(s): __post_init__ refuses any other base URL.
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with self._opener.open(request, timeout=self.policy.timeout) as answer:
                return _response(answer.status, answer.headers.items(), answer.read())
        except urllib.error.HTTPError as error:
            raw = error.read() if error.fp is not None else b""
            return _response(error.code, error.headers.items() if error.headers else [], raw)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, _TRANSIENT) or isinstance(error, _TRANSIENT):
                raise _Transient(str(reason) or type(reason).__name__) from None
            raise self._unreachable(str(reason), what, 1) from None

    def _unreachable(self, reason: str, what: str, attempts: int) -> ForgeError:
        tries = f" after {attempts} tries" if attempts > 1 else ""
        return ForgeError(
            self.redact(
                f"cannot reach {self.name} at {self.base_url} ({what or 'request'}){tries}: {reason}"
            ),
            status=0,
            hint="Check the network, the stack's API URL and any proxy settings.",
        )

    def _retry_after(self, response: Response) -> float | None:
        if self.rate_limit_wait is None:
            return None
        wait = self.rate_limit_wait(response, self.clock())
        return None if wait is None else max(0.0, wait)

    def _rate_limited(
        self, response: Response, wait: float, what: str, attempts: int
    ) -> ForgeError:
        doing = what or "call its API"
        if attempts >= self.policy.attempts:
            why = f"and still did after {attempts} tries"
        else:
            why = (
                f"and asks to wait {wait:.0f} s, more than mlcode waits "
                f"({self.policy.max_wait:.0f} s in all)"
            )
        return ForgeError(
            self.redact(
                f"{self.name} rate-limited the request to {doing} (HTTP {response.status}) {why}"
            ),
            status=response.status,
            hint="Run the command again later; a re-run completes what this one started.",
        )

    def error(self, response: Response, what: str, *, attempts: int = 1) -> ForgeError:
        """The clear error for an answer the caller cannot use."""
        status = response.status
        said = response.message()
        said_text = f": {said}" if said else ""
        doing = what or "the request"
        if status == 401:
            message = f"{self.name} refused the token in ${self.token_env} while trying to {doing} (HTTP 401{said_text})"
            hint = f"Set ${self.token_env} to a valid, unexpired token for {self.base_url}."
        elif status == 403:
            message = f"{self.name} denied permission to {doing} (HTTP 403{said_text})"
            repository = self.repository or "this repository"
            special = self.permission_hint(response, repository) if self.permission_hint else None
            hint = special or (
                f"Give the token in ${self.token_env} write access to pull/merge requests and "
                f"issues of {repository}."
            )
        elif status == 404:
            message = f"{self.name} answered 404 to the request to {doing} (HTTP 404{said_text})"
            hint = (
                f"Check that the repository {self.repository or '(from the git remote)'} exists on "
                f"{self.base_url} and that the token in ${self.token_env} can see it."
            )
        elif 300 <= status < 400:
            location = response.headers.get("location", "")
            message = f"{self.name} redirected the request to {doing} (HTTP {status}) to {location or 'another URL'}"
            hint = "The repository was renamed or moved: update the git remote (or the stack's API URL)."
        elif status >= 500:
            tries = f" after {attempts} tries" if attempts > 1 else ""
            message = f"{self.name} failed to {doing}: HTTP {status}{tries}{said_text}"
            hint = "The forge is having trouble; run the command again later."
        else:
            message = f"{self.name} refused to {doing} (HTTP {status}{said_text})"
            hint = None
        return ForgeError(
            self.redact(message), status=status, hint=self.redact(hint) if hint else None
        )


def _loopback(host: str) -> bool:
    """True for a host name or address on this machine (127.0.0.0/8, ::1, localhost)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def _flatten(value: JsonValue) -> str:
    """A forge's message as one line: GitLab sends lists (`["... already exists ..."]`) and
    field maps (`{"title": ["is too long"]}`) where GitHub sends a string."""
    if isinstance(value, list):
        return "; ".join(_flatten(item) for item in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{key} {_flatten(item)}" for key, item in value.items())
    return str(value)


def _response(status: int, headers: Any, raw: bytes) -> Response:
    lowered = {str(key).lower(): str(value) for key, value in headers}
    text = raw.decode("utf-8", errors="replace")
    data: JsonValue = None
    if text.strip():
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = text[:500]
    return Response(status=status, headers=lowered, data=data)
