"""Running a turn: the conversation (queue, run, resume, cancel), the runner that drives the
SDK's ``Runner.run_streamed`` (retries, approvals, the context budget, fault injection), the
adapter that turns SDK stream events into the core's typed events, and the journal that
stores each turn as it streams. ``protocol`` encodes the events for ``run --jsonl`` and
the API.
"""
