"""The response cache in the TUI (``--cache-ttl``): after ``/clear`` (a fresh conversation),
the same first prompt is answered from the cache, with no model request, and the timeline
says so in one row; the reply on screen is the same."""

from tests.app.helpers import pane_text, send, wait_idle
from tests.scripts import runner_for, text_step
from tui.app import AgentsTuiApp
from tui.core.config import Settings
from tui.widgets.assistant_message import AssistantMessage
from tui.widgets.metrics import MetricsSidebar

SIZE = (160, 45)


async def test_a_fresh_conversation_asking_again_shows_the_cached_reply_and_its_row():
    runner, model = runner_for([text_step(["Tokens ", "arrive ", "fast."], rate=100)] * 2)
    settings = Settings(agent="assistant", cache_ttl=60)
    app = AgentsTuiApp(settings, runner=runner, backend_label="scripted")
    async with app.run_test(size=SIZE) as pilot:
        await send(pilot, "What is TTFT?")
        await wait_idle(pilot)
        assert not [r for r in app.timeline.rows if "cache" in r.title]
        await send(pilot, "/clear")
        await wait_idle(pilot)
        await send(pilot, "What is TTFT? ")
        await wait_idle(pilot)
        rows = [r.title for r in app.timeline.rows if "cache" in r.title]
        assert len(rows) == 1 and rows[0].startswith("answered from cache (age ")
        replies = list(app.query(AssistantMessage))
        assert replies[-1].source == "Tokens arrive fast."
        assert len(model.calls) == 1  # the model was asked once
        # no rate was measured: the sidebar says cached, not "0.0 tokens/s"
        sidebar = pane_text(app, app.query_one(MetricsSidebar))
        row = next(line for line in sidebar.split("\n") if "tokens/s" in line)
        assert "cached" in row and "0.0" not in row
        # nor does the reply's own footer line (it said "0.0 tok/s · 0.0 overall")
        footer = pane_text(app, replies[-1])
        assert "cached" in footer and "tok/s" not in footer and "overall" not in footer
        stats = app.response_cache.stats()
        assert (stats.hits, stats.misses) == (1, 1)
