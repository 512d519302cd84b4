"""A forge played by a local HTTP server on 127.0.0.1 that holds every exchange to a description.

Each request is routed to an operation of the OpenAPI description, its parameters, headers and JSON
body are checked, and each answer is checked against the response schema before it is sent. Every
breach is recorded in `violations` (the tests assert there are none), so a client that drifts from
the forge's contract, or a fake that drifts from the forge, fails the test.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.contract.openapi import Description, Operation


@dataclass
class Answer:
    """What the fake answers: status, JSON body (None: empty), extra headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    """A failure to play: the next `times` requests to `operation` (None: any) get this answer."""

    operation: str | None
    answer: Answer
    times: int = 1


@dataclass
class Exchange:
    """One request as the server saw it, with the answer it got."""

    method: str
    path: str
    operation: str
    headers: dict[str, str]
    body: Any
    status: int


class Fake:
    """The behaviour of one forge: subclasses check headers, authorize and handle operations."""

    description: Description
    prefix: str = ""

    def check_headers(self, headers: dict[str, str], has_body: bool) -> list[str]:
        return []

    def authorize(self, headers: dict[str, str]) -> Answer | None:
        return None

    def not_found(self) -> Answer:
        return Answer(404, {"message": "Not Found"})

    def handle(
        self, operation: Operation, params: dict[str, str], query: dict[str, str], body: Any
    ) -> Answer:
        handler: Callable[..., Answer] | None = getattr(
            self, "op_" + _python_name(operation.operation_id), None
        )
        if handler is None:
            raise AssertionError(f"the fake does not play {operation.operation_id}")
        return handler(params, query, body)


def _python_name(operation_id: str) -> str:
    return operation_id.replace("/", "__").replace("-", "_")


class ContractServer:
    """Serve a `Fake` on 127.0.0.1 in a thread; `url` is its base, `violations` its findings."""

    def __init__(self, fake: Fake) -> None:
        self.fake = fake
        self.violations: list[str] = []
        self.exchanges: list[Exchange] = []
        self.faults: list[Fault] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {key.lower(): value for key, value in self.headers.items()}
                answer = server.dispatch(self.command, self.path, headers, raw)
                if answer.status == 0:  # play a dropped connection: no answer at all
                    self.close_connection = True
                    return
                payload = b"" if answer.body is None else json.dumps(answer.body).encode()
                self.send_response(answer.status)
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                if payload:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{self.fake.prefix}"

    def __enter__(self) -> ContractServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)

    def drop(self, operation: str | None, *, times: int = 1) -> None:
        """Close the connection without an answer on the next `times` requests to `operation`."""
        self.faults.append(Fault(operation, Answer(0), times))

    def fail(
        self,
        operation: str | None,
        status: int,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Play a failure on the next `times` requests to `operation` (an operationId, or None)."""
        self.faults.append(Fault(operation, Answer(status, body, headers or {}), times))

    def calls(self, operation: str) -> list[Exchange]:
        """The exchanges with one operation, in order."""
        return [exchange for exchange in self.exchanges if exchange.operation == operation]

    def dispatch(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Answer:
        with self._lock:
            answer, operation, body = self._dispatch(method, target, headers, raw)
            self.exchanges.append(Exchange(method, target, operation, headers, body, answer.status))
            return answer

    def _dispatch(
        self, method: str, target: str, headers: dict[str, str], raw: bytes
    ) -> tuple[Answer, str, Any]:
        parts = urlsplit(target)
        path = parts.path
        if not path.startswith(self.fake.prefix):
            self.violations.append(
                f"{method} {target}: not under the API prefix {self.fake.prefix!r}"
            )
            return Answer(404, {"message": "Not Found"}), "?", None
        path = path[len(self.fake.prefix) :] or "/"
        found = self.fake.description.match(method, path)
        if found is None:
            self.violations.append(f"{method} {path}: no operation of the description matches")
            return Answer(404, {"message": "Not Found"}), "?", None
        operation, raw_params = found
        params = {key: unquote(value) for key, value in raw_params.items()}
        query_lists = parse_qs(parts.query, keep_blank_values=True)
        problems = self.fake.check_headers(headers, bool(raw))
        problems += operation.check_request(
            params, query_lists, raw, headers.get("content-type", "")
        )
        body = json.loads(raw) if raw and not problems else None
        if problems:
            self.violations += [
                f"{method} {path} ({operation.operation_id}): {problem}" for problem in problems
            ]
            answer = Answer(400, {"message": "request breaks the contract: " + "; ".join(problems)})
            return answer, operation.operation_id, body
        answer = self._fault(operation.operation_id) or self.fake.authorize(headers)
        if answer is None:
            query = {key: values[0] for key, values in query_lists.items()}
            answer = self.fake.handle(operation, params, query, body)
        if answer.status == 0:
            return answer, operation.operation_id, body
        for problem in self.fake.description.check_response(operation, answer.status, answer.body):
            self.violations.append(f"the fake's answer to {method} {path}: {problem}")
        return answer, operation.operation_id, body

    def _fault(self, operation: str) -> Answer | None:
        for fault in self.faults:
            if fault.times > 0 and fault.operation in (None, operation):
                fault.times -= 1
                return fault.answer
        return None
