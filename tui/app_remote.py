"""The app attached to a running ``agents-tui api`` (``agents-tui --connect URL``): the
session is joined (``--session``) or made, its stored turns shown as a local
conversation's are, and its events presented by the chat screen for as long as the app
runs. A watcher (``--watch``) types nothing; it answers approvals only with ``--approve``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.app import App

from tui.core.i18n import _
from tui.core.sanitize import safe_text

RETRY_S = (0.5, 1.0, 2.0, 3.0, 5.0, 5.0, 5.0, 5.0)  # waits for a service not up yet (~30 s)


@dataclass(frozen=True, slots=True)
class Connect:
    url: str
    token: str | None = None
    session: str | None = None  # join this session; None: a new one
    name: str = ""  # the author of this terminal's prompts
    agent: str | None = None  # a new session's agent (``GET /v1/agents``)
    watch: bool = False  # read-only
    approve: bool = False  # a watcher may still answer approvals


class RemoteStartup(App[None]):
    """Mixed into the app: attaching to the service, and its sessions for Ctrl+S."""

    @work(exclusive=True, group="attach", exit_on_error=False)
    async def attach(self, connect: Connect, session: str | None = None) -> None:
        from tui.remote.client import ServiceClient, ServiceProblem, Unreachable
        from tui.remote.session import RemoteTable
        from tui.widgets.record import Record

        app: Any = self  # the AgentsTuiApp this is mixed into (not imported: no circle)
        client = ServiceClient(connect.url, connect.token)
        shown = client.shown
        app.status.show(_("connecting to {url}…").format(url=shown))
        wanted = session or connect.session
        for wait in (*RETRY_S, None):
            try:
                if wanted is None:
                    wanted = await client.create_session(connect.agent)
                info = await client.join_or_create(wanted, connect.agent)
                table = RemoteTable(client, wanted, connect.name)
                table.agent = str(info.get("agent") or "")
                stored = await table.stored()
                break
            except (ServiceProblem, Unreachable) as problem:
                line = problem.line() if isinstance(problem, ServiceProblem) else str(problem)
                passing = isinstance(problem, Unreachable) or problem.passing
                if passing and wait is not None:  # not up yet, or busy: try again shortly
                    app.status.show(_("reconnecting… ({why})").format(why=line))
                    await asyncio.sleep(wait)
                    continue
                await client.close()
                app.status.show(line, busy=False)
                app.chat.add_note(_("Cannot attach to {url}").format(url=shown), line, kind="error")
                return
        if app.remote is not None:
            await app.remote.close()
            app.chat.clear()
            app.timeline.clear_rows()
        app.remote = table
        app.conversation_id = wanted
        app.model_ready = True
        app.backend_label = f"{shown} · {wanted}"
        app.update_header()
        records = []
        for message in stored:
            if message.get("role") == "user":
                author = str(message.get("author") or "")
                text = str(message.get("text", ""))
                records.append(Record("user", f"{author}: {text}" if author else text))
            else:
                for tool in message.get("tool_calls") or []:  # type: ignore[attr-defined]
                    app.timeline.past_tool(tool)
                status = str(message.get("status") or "completed")
                shown = status if status in ("completed", "interrupted") else "failed"
                error = message.get("error")
                records.append(
                    Record(
                        "assistant",
                        str(message.get("text", "")),
                        shown,
                        str(error) if error else None,
                        message.get("metrics") or {},  # type: ignore[arg-type]
                    )
                )
        if records:
            app.chat.show_past(records)
        if connect.watch:
            app.prompt_input.disabled = True
            app.prompt_input.placeholder = _("watching: read-only (--watch)")
        app.chat_screen.follow_remote(table)

    def remote_sessions(self) -> None:
        """Ctrl+S when attached: the service's sessions, to join one."""
        self._list_sessions()

    @work(exclusive=True, group="attach-list", exit_on_error=False)
    async def _list_sessions(self) -> None:
        from tui.remote.client import ServiceProblem, Unreachable
        from tui.screens.remote_sessions import RemoteSessionsScreen

        app: Any = self  # the AgentsTuiApp this is mixed into (not imported: no circle)
        table, connect = app.remote, app.connect
        if table is None or connect is None:
            return
        try:
            sessions = await table.client.sessions()
        except (ServiceProblem, Unreachable) as problem:
            app.notify(safe_text(str(problem)), severity="error")
            return

        def chosen(session_id: str | None) -> None:
            if session_id and session_id != table.id:
                self.attach(connect, session_id)

        self.push_screen(RemoteSessionsScreen(sessions, table.id), chosen)
