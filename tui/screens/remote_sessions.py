"""Ctrl+S when attached to a running service (``--connect``): its sessions, to join one."""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label

from tui.core.i18n import N_, _
from tui.core.sanitize import safe_text
from tui.localized import localized


@localized
class RemoteSessionsScreen(ModalScreen[str | None]):
    """Dismisses with the id of the session to join, or None."""

    CSS_PATH = "remote_sessions.tcss"
    BINDINGS = [Binding("escape", "close", N_("close"))]

    def __init__(self, sessions: list[dict[str, Any]], current_id: str) -> None:
        super().__init__()
        self.sessions = sessions
        self.current_id = current_id

    def compose(self) -> ComposeResult:
        with Vertical(id="remote-box"):
            yield Label(_("The service's sessions — Enter joins"), id="remote-title")
            yield DataTable(id="remote-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(
            _("session"), _("title"), _("agent"), _("turns"), _("status"), _("players")
        )
        for item in self.sessions:
            mark = "▶ " if item.get("id") == self.current_id else ""
            table.add_row(
                mark + safe_text(str(item.get("id", ""))),
                safe_text(str(item.get("title") or "")),
                safe_text(str(item.get("agent") or "")),
                str(item.get("turns", 0)),
                safe_text(str(item.get("status", ""))),
                safe_text(", ".join(str(p) for p in item.get("participants") or [])),
                key=str(item.get("id", "")),
            )
        table.focus()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(event.row_key.value)

    def action_close(self) -> None:
        self.dismiss(None)
