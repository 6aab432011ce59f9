"""A session of a running ``agents-tui api``, attached from a terminal (``--connect``): its
routes as typed calls (``client``), its event protocol read back into the app's events
(``decode``) and the session as one stream of them (``session``). Imports no textual."""
