"""Ctrl+S / /sessions: find, open, rename and delete stored conversations."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label

from tui.core.i18n import N_, _
from tui.core.sanitize import safe_text
from tui.core.store import Store
from tui.localized import localized
from tui.screens.confirm import ConfirmScreen
from tui.screens.text_prompt import TextPromptScreen


@localized
class SessionsScreen(ModalScreen[str | None]):
    """Dismisses with the id of the conversation to open, or None."""

    CSS_PATH = "sessions.tcss"
    BINDINGS = [
        Binding("escape", "close", N_("close")),
        Binding("ctrl+r", "rename", N_("rename")),
        Binding("ctrl+d", "delete", N_("delete")),
    ]

    def __init__(self, store: Store, current_id: str | None = None) -> None:
        super().__init__()
        self.store = store
        self.current_id = current_id

    def compose(self) -> ComposeResult:
        with Vertical(id="sessions-box"):
            yield Label(
                _("Conversations — type to search messages; Enter opens"), id="sessions-title"
            )
            yield Input(placeholder=_("search…"), id="sessions-search")
            yield DataTable(id="sessions-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(_("title"), _("agent"), _("model"), _("turns"), _("last activity"))
        self.refresh_rows()
        table.focus()

    def refresh_rows(self, search: str = "") -> None:
        table = self.query_one(DataTable)
        table.clear()
        for row in self.store.conversations(search):
            marker = "● " if row.id == self.current_id else ""
            table.add_row(
                Text(marker + safe_text(row.title or "(untitled)")),
                Text(safe_text(row.agent)),
                Text(safe_text(row.model)),
                str(row.turns),
                datetime.fromtimestamp(row.updated_at).strftime("%Y-%m-%d %H:%M"),
                key=row.id,
            )

    @on(Input.Changed, "#sessions-search")
    def _search(self, event: Input.Changed) -> None:
        self.refresh_rows(event.value)

    @on(Input.Submitted, "#sessions-search")
    def _to_table(self) -> None:
        self.query_one(DataTable).focus()

    def _selected(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return str(key.value) if key.value is not None else None

    @on(DataTable.RowSelected)
    def _open(self, event: DataTable.RowSelected) -> None:
        self.dismiss(str(event.row_key.value))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_rename(self) -> None:
        conversation_id = self._selected()
        if conversation_id is None:
            return
        current = self.store.conversation(conversation_id)

        def renamed(title: str | None) -> None:
            if title:
                self.store.rename(conversation_id, title)
                self.refresh_rows(self.query_one(Input).value)

        self.app.push_screen(
            TextPromptScreen(_("New title:"), current.title if current else ""), renamed
        )

    def action_delete(self) -> None:
        conversation_id = self._selected()
        if conversation_id is None:
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.store.delete(conversation_id)
                self.refresh_rows(self.query_one(Input).value)
                self.notify(_("Conversation deleted."))

        self.app.push_screen(
            ConfirmScreen(_("Delete this conversation for good?"), yes=_("Delete"), no=_("Keep")),
            answered,
        )
