"""Find credentials hidden in a URL: userinfo (`user:password@`, `token@`) and secret query keys.

Pure: takes the text, returns why it is refused (or None). The reason never repeats the secret.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

# Query (or fragment) keys that carry a secret, matched after lowercasing and dropping everything
# but letters and digits: `X-Amz-Signature`, `access_key_id`, `sig`, `token`, `password`, SAS...
_SECRET_PARTS = (
    "key",
    "secret",
    "token",
    "sig",
    "pass",
    "pwd",
    "credential",
    "auth",
    "session",
    "sas",
    "apikey",
)
_NON_ALNUM = re.compile(r"[^a-z0-9]")


def is_url(value: str) -> bool:
    """True for `scheme://...` text."""
    return re.match(r"[A-Za-z][A-Za-z0-9+.-]*://", value) is not None


def secret_query_keys(query: str) -> list[str]:
    """The keys of a query string (or fragment) that name a secret, in order."""
    found: list[str] = []
    for key, _ in parse_qsl(query, keep_blank_values=True):
        norm = _NON_ALNUM.sub("", key.lower())
        if any(part in norm for part in _SECRET_PARTS) and key not in found:
            found.append(key)
    return found


def credential_in_url(value: str, *, user_ok: bool = False) -> str | None:
    """Why `value` (a URL) is refused because it carries a credential; None when it does not.

    `user_ok` allows a bare user name (`ssh://dvc@host/path`): a login name, not a secret. A
    password (`user:password@`) is refused always, and any userinfo when `user_ok` is false (for
    https/s3/endpoints, `token@host` is how tokens are smuggled into URLs).
    """
    if not is_url(value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return "is not a valid URL"
    if "@" in parts.netloc:
        userinfo = parts.netloc.rpartition("@")[0]
        if ":" in userinfo:
            return (
                "embeds a password (user:password@); give it under `credentials` as the name of "
                "the environment variable that holds it, never in the URL"
            )
        if not user_ok:
            return (
                "embeds a user name or token before '@'; a login name goes in the `user` option, "
                "secrets under `credentials` as environment variable names, never in the URL"
            )
    keys = list(dict.fromkeys(secret_query_keys(parts.query) + secret_query_keys(parts.fragment)))
    if keys:
        shown = ", ".join(repr(k) for k in keys)
        return (
            f"carries a secret in its query string ({shown}); a signed or token URL would be "
            "committed to .dvc/config: give credentials under `credentials` as environment "
            "variable names"
        )
    return None
