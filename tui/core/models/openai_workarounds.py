"""Work-arounds for the ``openai`` package, in one place.

**The aiohttp transport imported by every client.** ``openai._base_client`` imports its
vendored aiohttp transport (``openai._vendor.httpx_aiohttp``, for the optional
``DefaultAioHttpClient``) at import whenever ``aiohttp`` is installed, and it is here:
``agents-tui serve`` (textual-serve) and the bench's load generator need it. That one import
brings aiohttp, yarl, multidict, frozenlist, propcache and attrs into every process that
imports the SDK: about 7 MB of resident memory in the app (113.6 against 120.7 MB at the
first prompt, ``agents-tui bench --terminal``), for a transport agents-tui never uses (its
clients are ``openai``'s default httpx ones). Upstream: the import is eager in
``_base_client.py`` (``try: from ._vendor.httpx_aiohttp import ...``), where a lazy one
would cost nothing; not filed yet (the text of the report is in docs/upstream.md).

``install()`` marks the vendored module as absent before ``openai`` is first imported, so
``openai`` takes the branch it already has for an install without its ``aiohttp`` extra:
everything works as before, and only ``openai.DefaultAioHttpClient()`` would say the extra
is missing. It is called first thing in ``tui.cli.main``; it does nothing once ``openai``
is imported, on a version of ``openai`` outside ``TESTED``, or with
``AGENTS_TUI_OPENAI_AIOHTTP=on``.
"""

from __future__ import annotations

import os
import sys
from importlib import metadata

TESTED = ("3.",)  # openai major versions checked: the import and the branch it falls back to
VENDORED = "openai._vendor.httpx_aiohttp"


def install() -> bool:
    """Keep ``openai`` from importing its aiohttp transport; True if it will not."""
    if os.environ.get("AGENTS_TUI_OPENAI_AIOHTTP", "").lower() == "on":
        return False
    if "openai" in sys.modules:
        return sys.modules.get(VENDORED, False) is None
    try:
        version = metadata.version("openai")
    except metadata.PackageNotFoundError:
        return False
    if not version.startswith(TESTED):
        return False
    sys.modules[VENDORED] = None  # type: ignore[assignment]  # import raises ImportError
    return True
