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


# A database URL in every form libpq takes a secret in (issue 38, round 2).
DATABASE_SECRETS = {
    "postgresql://ann:Pw-user-info1@127.0.0.1:1/db": "Pw-user-info1",
    "postgresql://:Pw-empty-user2@127.0.0.1:1/db": "Pw-empty-user2",
    "postgresql://127.0.0.1:1/db?password=Pw-query-3&sslmode=disable": "Pw-query-3",
    "postgresql:///db?host=127.0.0.1&port=1&password=Pw-hostless-4": "Pw-hostless-4",
    "postgresql://127.0.0.1:1/db?sslpassword=Pw-ssl-key-5": "Pw-ssl-key-5",
    "postgresql://127.0.0.1:1/db?p%61ssword=Pw-encoded-6": "Pw-encoded-6",
    "postgresql://u:Pw-multi-host-7@127.0.0.1:1,127.0.0.2:1/db": "Pw-multi-host-7",
}


def test_a_database_url_loses_its_password_in_every_form_libpq_takes():
    from tui.core.store import redacted_url

    for url, secret in DATABASE_SECRETS.items():
        shown = redacted_url(url)
        assert secret not in shown and "***" in shown, shown
        assert shown.split("://")[0] == url.split("://")[0]
    # the rest stays as it was: what a person needs to find the database
    assert (
        redacted_url("postgresql://:pw@db.internal:5433/app")
        == "postgresql://:***@db.internal:5433/app"
    )
    assert (
        redacted_url("postgresql:///app?host=/run/pg&password=x&sslmode=require&passfile=/p")
        == "postgresql:///app?host=/run/pg&password=***&sslmode=require&passfile=/p"
    )
    assert redacted_url("postgresql://bob@h/db") == "postgresql://bob@h/db"
    assert redacted_url("host=h password='a b' dbname=d") == "host=h password=*** dbname=d"


def test_print_config_and_a_misplaced_database_option_show_no_password(capsys):
    import json

    import pytest

    from tui.cli import main

    for url, secret in DATABASE_SECRETS.items():
        assert main(["--print-config", "api", "--database", url]) == 0
        printed = capsys.readouterr()
        assert secret not in printed.out + printed.err
        assert json.loads(printed.out)["database"].startswith(url.split("://")[0])
        for misplaced in (["--database", url, "api"], ["api", "--databse", url], ["stats", url]):
            with pytest.raises(SystemExit):
                main(misplaced)
            err = capsys.readouterr().err
            assert "error:" in err and secret not in err, err


def test_a_database_that_cannot_be_reached_is_named_without_its_password():
    import pytest

    from tui.core.store import DatabaseError, Store

    urls = {**DATABASE_SECRETS, "postgresql://:Pw%zz-bad-8@127.0.0.1:1/db": "Pw%zz-bad-8"}
    for url, secret in urls.items():
        with pytest.raises(DatabaseError) as caught:
            Store(url=url)
        text = str(caught.value)
        assert text.startswith("cannot reach postgresql") and secret not in text, text
        assert secret.replace("%zz", "") not in text


def test_the_postgresql_writer_warns_without_the_password(caplog):
    from tui.core.store.pg_coordination import Writer

    for url, secret in DATABASE_SECRETS.items():
        writer = Writer(url)
        writer.events([(1, 1, "s", {"type": "text_delta"})])
        writer._stop.set()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="agents_tui"):
            writer.flush()
        [record] = [r for r in caplog.records if "failed" in r.getMessage()]
        assert secret not in record.getMessage(), record.getMessage()


def test_log_lines_escape_control_characters_from_clients_in_text_and_json(capsys):
    from tui.api.server import JsonFormatter, RedactingFilter

    path = "/v1/sessions/\x00FAKE\x1b[2J\x9b31m\nINFO: forged\ud800/messages"
    for formatter in (logging.Formatter("%(levelname)s: %(message)s"), JsonFormatter()):
        handler = logging.StreamHandler()
        handler.setFormatter(formatter)
        handler.addFilter(RedactingFilter())
        log = logging.getLogger("test.escape")
        log.addHandler(handler)
        try:
            try:
                raise ValueError(f"bad path {path}")
            except ValueError:
                log.exception("request GET %s failed", path, extra={"fields": {"path": path}})
            log.warning("dropped a client (%s)", path)
        finally:
            log.removeHandler(handler)
        err = capsys.readouterr().err
        for raw in ("\x00", "\x1b", "\x9b", "\ud800", "\nINFO: forged"):
            assert raw not in err, (raw, err)
        assert "\\x1b[2J" in err and "ValueError" in err
        assert len([line for line in err.splitlines() if "dropped a client" in line]) == 1


def test_an_exception_already_logged_is_not_logged_again(capsys):
    """A request's failure: the app's line with its request id, not also uvicorn's
    "Exception in ASGI application" with the same traceback."""
    from tui.api.server import RedactingFilter

    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    ours, uvicorns = logging.getLogger("test.app"), logging.getLogger("test.uvicorn")
    for log in (ours, uvicorns):
        log.addHandler(handler)
    try:
        try:
            raise RuntimeError("the store failed")
        except RuntimeError as problem:
            ours.error("request abc GET /x failed", exc_info=problem)
            uvicorns.error("Exception in ASGI application\n", exc_info=problem)
        try:
            raise RuntimeError("another failure")
        except RuntimeError as problem:
            uvicorns.error("Exception in ASGI application\n", exc_info=problem)
    finally:
        for log in (ours, uvicorns):
            log.removeHandler(handler)
    err = capsys.readouterr().err
    assert err.count("Traceback") == 2 and err.count("Exception in ASGI application") == 1
    assert "request abc GET /x failed" in err and "another failure" in err
