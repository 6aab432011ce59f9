"""``--inject-faults``: the tutorial's random failures, recovered from for real."""

from tests.scripts import runner_for, text_step
from tui.core import events as ev
from tui.core.turn.faults import FaultInjector


async def test_injected_faults_show_retries_and_the_reply_still_ends_exact():
    words = [f"w{i} " for i in range(60)]
    steps = [text_step(words[:]) for _ in range(3)]  # each attempt's model call streams anew
    runner, _ = runner_for(steps)
    runner.faults = FaultInjector(0.1, seed=3)
    seen: list = []
    outcome = await runner.run("tell me a long story", seen.append)
    failures = [e for e in seen if isinstance(e, ev.RunFailed)]
    retries = [e for e in seen if isinstance(e, ev.RetryScheduled)]
    assert failures and all(f.error_kind == "injected" for f in failures)
    assert all(
        "Injected fault" in f.message and "--inject-faults 0.1" in f.message for f in failures
    )
    assert len(retries) == len(failures) and retries[0].max_attempts == 3
    assert outcome.status == "completed"
    # the continuation asks for the rest: the reply reads as one, whole and in order
    assert "".join(e.text for e in seen if isinstance(e, ev.TextDelta)) == outcome.text
    assert outcome.text.startswith("w0 w1 w2 ") and runner.faults.injected == len(failures)


async def test_without_the_flag_nothing_is_injected():
    runner, _ = runner_for([text_step([f"w{i} " for i in range(60)])])
    seen: list = []
    outcome = await runner.run("hi", seen.append)
    assert outcome.status == "completed" and runner.faults is None
    assert not [e for e in seen if isinstance(e, ev.RunFailed)]
