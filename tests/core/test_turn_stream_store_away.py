"""A turn whose store's database goes away as it begins (PostgreSQL restarting): its client
is told STORE_UNAVAILABLE and how the turn ended, never INTERNAL_ERROR with a traceback."""

import logging

from tui.api.feed import Feed
from tui.api.turn_stream import TurnStream
from tui.core.store import StoreUnavailable


class AwayConversation:
    id = "s1"
    metrics = None

    def turn(self, _prompt, _author="", **_options):
        async def events():
            raise StoreUnavailable()
            yield  # an async generator

        return events()

    def cancel(self) -> None:
        pass


class Coordination:
    def record_events(self, _rows) -> None:
        pass


class Store:
    coordination = Coordination()


async def test_a_turn_whose_database_is_away_ends_as_a_failed_turn_told_to_its_client(caplog):
    stream = TurnStream(
        AwayConversation(),  # type: ignore[arg-type]
        "hello",
        feed=Feed(Store()),
        store=Store(),  # type: ignore[arg-type]
        max_buffered=1 << 20,
        release=lambda: None,
    )
    with caplog.at_level(logging.WARNING, logger="agents_tui.api"):
        objects = [obj async for obj in stream.events()]
    assert [o["type"] for o in objects] == ["error", "response_complete"]
    assert objects[0]["data"]["code"] == "STORE_UNAVAILABLE"
    assert objects[1]["data"]["status"] == "failed"
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
