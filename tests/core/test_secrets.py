"""Secrets never leave in what is shown, stored or sent: URLs, errors, log lines."""

import logging

from tui.core.config import Settings
from tui.core.models.providers import choose_backend
from tui.core.secrets import redact, remember, strip_userinfo
from tui.core.turn.errors import classify


def test_a_url_is_shown_without_its_credentials_or_secret_query_values():
    assert strip_userinfo("http://bob:hunter22@10.0.0.5:8080/v1") == "http://10.0.0.5:8080/v1"
    assert (
        strip_userinfo("https://h/v1?api_key=abc123&x=1") == "https://h/v1?api_key=[redacted]&x=1"
    )
    assert strip_userinfo("http://[::1]:9000/v1") == "http://[::1]:9000/v1"
    # and the password is then hidden wherever it turns up
    assert "hunter22" not in redact("server said: bad password hunter22")


def test_a_servers_error_text_loses_the_secrets_it_echoes():
    backend = choose_backend(
        Settings(provider="compat", base_url="http://ann:pa55-word-9@h:1/v1", api_key="key-77x1q")
    )
    assert backend.label == "http://h:1/v1 · local-model"

    class AuthenticationError(Exception):
        status_code = 401

    failure = classify(
        AuthenticationError(
            "Incorrect API key provided: key-77x1q at http://ann:pa55-word-9@h:1/v1 "
            "(also sk-proj-abcdef123456 and Bearer zzzzzzzzzzzz)"
        )
    )
    assert failure.kind == "auth"
    for leaked in ("key-77x1q", "pa55-word-9", "ann:", "sk-proj-abcdef123456", "zzzzzzzzzzzz"):
        assert leaked not in failure.message
    assert "Incorrect API key provided" in failure.message  # the words stay


def test_the_servers_log_lines_and_tracebacks_are_redacted(capsys):
    from tui.api.server import RedactingFilter

    remember("tok-secret-991")
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    try:
        raise ConnectionError("GET http://u:tok-secret-991@x/v1 failed")
    except ConnectionError:
        log.exception("request to %s failed", "http://u:tok-secret-991@x/v1")
    finally:
        log.removeHandler(handler)
    err = capsys.readouterr().err
    assert "tok-secret-991" not in err and "u:" not in err
    assert "request to http://x/v1 failed" in err and "ConnectionError" in err
