"""``--inject-faults RATE``: the source tutorial's demo of recovery, made visible.

The tutorial's resilient demo raises "Simulated network interruption" on 10 % of stream
events after the tenth; this does the same to the real stream (the connection is dropped
as a cut one would be), so the retries, the backoff and the exact continuation run for real
and can be watched. Each fault is a ``RunFailed`` of kind ``injected`` (a transient kind, so
it is retried), named as injected in the timeline, the chat and the JSONL ``retry`` event.
The last attempt of a turn runs clean: at 10 % a long reply meets a fault every ten events,
and a demo that always ends in failure would show no recovery.

Never on by default; ``--seed`` makes the faults reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

FIRST_EVENTS_CLEAN = 10  # as the tutorial: no fault before an attempt's eleventh event


class InjectedFault(ConnectionError):
    """A network interruption made on purpose by ``--inject-faults``."""


@dataclass(slots=True)
class FaultInjector:
    rate: float
    seed: int | None = None
    injected: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def strikes(self, events_in_attempt: int) -> bool:
        """Whether this stream event is cut (counted when it is)."""
        if events_in_attempt <= FIRST_EVENTS_CLEAN or self._rng.random() >= self.rate:
            return False
        self.injected += 1
        return True

    def fault(self) -> InjectedFault:
        return InjectedFault(
            f"a simulated network interruption (--inject-faults {self.rate:g}, "
            f"fault {self.injected})"
        )
