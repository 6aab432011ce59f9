"""Secrets stay out of what is printed, logged, stored or sent back.

``strip_userinfo`` shows a URL without the user and password it may carry
(``http://user:pass@host/v1`` -> ``http://host/v1``) and without secret-looking query
values. ``redact`` takes the secrets this process was given (``remember``), credentials
inside URLs and API-key-shaped words out of any text: a model server's error message,
a log line, a traceback.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

HIDDEN = "[redacted]"
SECRET_QUERY_KEYS = frozenset(
    {"key", "api_key", "apikey", "api-key", "token", "access_token"}
    # libpq's secret parameters (a database URL's ``?password=``): tui.core.store.db
    | {"password", "sslpassword", "oauth_client_secret"}
)
# user:password@ inside any URL in free text
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")
# API keys as providers print them (OpenAI sk-..., Bearer tokens)
_KEY_LIKE = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9._~+/=\-]{8,})")
_QUERY_SECRET = re.compile(
    # (a value already hidden, ``***`` from tui.core.store.db.redacted_url, stays as it is)
    r"(?P<name>[?&](?:" + "|".join(re.escape(k) for k in SECRET_QUERY_KEYS) + r")=)"
    r"(?!\*\*\*)[^&\s#'\"]+",
    re.IGNORECASE,
)

_known: set[str] = set()
_lock = threading.Lock()


def remember(*values: str | None) -> None:
    """Secrets this process holds (the API key, the API token, a URL's password)."""
    with _lock:
        for value in values:
            if value and len(value) >= 4:
                _known.add(value)


def strip_userinfo(url: str | None) -> str:
    """The URL to show or store: no user-info, no secret query values."""
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    if parts.username is not None or parts.password is not None:
        remember(parts.password, parts.username if parts.password is None else None)
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    query = urlencode(
        [
            (k, HIDDEN if k.lower() in SECRET_QUERY_KEYS else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="[]",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def userinfo_secrets(url: str | None) -> None:
    """Remember the credentials a URL carries, so that ``redact`` hides them anywhere."""
    if url:
        strip_userinfo(url)


def redact(text: str) -> str:
    """``text`` with every secret this process knows and every credential-shaped part
    replaced by ``[redacted]``."""
    if not text:
        return text
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, HIDDEN)
    text = _URL_USERINFO.sub(lambda m: m.group("scheme"), text)
    text = _KEY_LIKE.sub(HIDDEN, text)
    return _QUERY_SECRET.sub(lambda m: m.group("name") + HIDDEN, text)
