"""``agents-tui api``: the source tutorial's web streaming service over HTTP."""
