"""MCP servers: from flags and config, and those an agent carries; connected once, cleaned up once.

The SDK needs each server connected before a run that uses it. ``McpHub`` connects every
server reachable from the agent (its own, its handoffs', those of agents used as tools,
and the ones attached with ``--mcp`` / ``--mcp-url`` / ``[[mcp]]``) through the SDK's
``MCPServerManager``, which keeps connect and cleanup on one task per server. A server
that fails to start is taken off every agent so the conversation goes on without it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.core.config import ConfigError, McpSpec
from tui.core.sdk_compat import agent_of_tool, handoff_agent

if TYPE_CHECKING:
    from agents import Agent
    from agents.mcp import MCPServer, MCPServerManager, MCPServerStdioParams

METHOD_NOT_FOUND = -32601  # JSON-RPC: the server is there, it just has no "ping"


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """One entry of ``/tools``."""

    name: str
    source: str  # "function", "mcp: NAME", "handoff", "agent-as-tool"
    description: str


def build_server(spec: McpSpec) -> MCPServer:
    """An SDK MCP server object for one spec (not connected)."""
    from agents.mcp import MCPServerStdio, MCPServerStreamableHttp

    if spec.url:
        return MCPServerStreamableHttp(
            params={"url": spec.url}, name=spec.name, cache_tools_list=True
        )
    if spec.command is None:  # McpSpec's constructors give it a command or a url
        raise ConfigError(f"MCP server {spec.name!r} has neither a command nor a url")
    params: MCPServerStdioParams = {"command": spec.command, "args": list(spec.args)}
    if spec.env:
        import os

        params["env"] = {**os.environ, **dict(spec.env)}
    return MCPServerStdio(params=params, name=spec.name, cache_tools_list=True)


def attach(agent: Agent, specs: tuple[McpSpec, ...]) -> Agent:
    """The agent with the servers named on the command line or in the config added."""
    if not specs:
        return agent
    return agent.clone(mcp_servers=[*agent.mcp_servers, *(build_server(s) for s in specs)])


def agents_in(agent: Agent) -> Iterator[Agent]:
    """Every agent reachable from ``agent``: handoffs and agents used as tools, once each."""
    seen: set[int] = set()
    stack: list[Agent | None] = [agent]
    while stack:
        current = stack.pop()
        if id(current) in seen or current is None:
            continue
        seen.add(id(current))
        yield current
        for handoff in getattr(current, "handoffs", None) or ():
            is_agent = hasattr(handoff, "mcp_servers")
            stack.append(handoff if is_agent else handoff_agent(handoff))
        for tool in getattr(current, "tools", None) or ():
            nested = agent_of_tool(tool)
            if nested is not None:
                stack.append(nested)


def servers_of(agent: Agent) -> list[MCPServer]:
    out: list[MCPServer] = []
    for each in agents_in(agent):
        for server in getattr(each, "mcp_servers", None) or ():
            if all(server is not known for known in out):
                out.append(server)
    return out


class McpHub:
    """Connects the servers of one agent graph and drops the ones that fail.

    Servers attached from flags or config (``attached``) belong to the session, not to an
    agent: when the person switches agents they go along, still connected, and the new
    agent's own servers are connected by the next ``start``."""

    def __init__(self, agent: Agent, attached: list[MCPServer] | None = None) -> None:
        self.agent = agent
        self.servers = servers_of(agent)
        self.attached = list(attached or ())
        # The connect under way or done: every runner sharing this hub waits for the same one.
        self._task: asyncio.Future[list[str]] | None = None
        self._managers: list[MCPServerManager] = []
        self._started: list[MCPServer] = []  # servers a start() has tried to connect
        self._dropped: list[MCPServer] = []
        self.problems: list[str] = []

    @property
    def needed(self) -> bool:
        return bool(self.servers)

    @property
    def alive(self) -> list[MCPServer]:
        """The servers not dropped."""
        return [s for s in self.servers if all(s is not gone for gone in self._dropped)]

    @property
    def pending(self) -> bool:
        """Some server has not been connected yet (an agent switched to brought it)."""
        return any(all(s is not known for known in self._started) for s in self.servers)

    async def prepare(self) -> list[str]:
        """Connect the servers not connected yet (front ends start it early; a switch of
        agent brings new ones); one line per failure. A second caller waits for the
        connect under way and gets no lines: the first caller reports them."""
        if self._task is not None and not self._task.done():
            await asyncio.shield(self._task)
            if not self.pending:
                return []
        if self._task is None or self.pending:
            self._task = asyncio.ensure_future(self.start())
            problems: list[str] = await asyncio.shield(self._task)
            return problems
        return []

    async def ready(self) -> list[str]:
        """Before a turn: connect what is not connected yet, or check that the connected
        servers still answer; one line per problem."""
        if self._task is None or not self._task.done() or self.pending:
            return await self.prepare()
        return await self.check()

    async def start(self, timeout_s: float = 20.0) -> list[str]:
        """Connect every server not connected yet; one line per server that failed (also
        kept)."""
        new = [s for s in self.servers if all(s is not known for known in self._started)]
        if not new:
            return []
        from agents.mcp import MCPServerManager

        self._started += new
        manager = MCPServerManager(
            new,
            connect_timeout_seconds=timeout_s,
            cleanup_timeout_seconds=5.0,
            connect_in_parallel=True,
        )
        self._managers.append(manager)
        await manager.connect_all()
        lines = []
        for server, error in manager.errors.items():
            reason = f"MCP server {server.name!r} did not start: {_one_line(error)}"
            self.drop(server, reason)
            lines.append(reason)
        return lines

    def switch(self, agent: Agent) -> Agent:
        """The agent to talk to from now on, with the session's attached servers that are
        still alive; its own servers wait for the next ``start``."""
        alive = [s for s in self.attached if all(s is not gone for gone in self._dropped)]
        own = list(getattr(agent, "mcp_servers", None) or ())
        if alive:
            agent = agent.clone(mcp_servers=[*own, *alive])
        self.agent = agent
        for server in servers_of(agent):
            if all(server is not known for known in self.servers):
                self.servers.append(server)
        return agent

    def drop(self, server: MCPServer, reason: str) -> None:
        """Take a server off every agent: later turns run without it."""
        self.problems.append(reason)
        self._dropped.append(server)
        for each in agents_in(self.agent):
            servers = getattr(each, "mcp_servers", None)
            if servers and any(s is server for s in servers):
                # In place: clones of this agent (the run's tapped copy) share the list.
                servers[:] = [s for s in servers if s is not server]

    async def check(self) -> list[str]:
        """Before a turn: a server that died since is dropped, with one line saying so."""
        lines: list[str] = []
        for server in list(servers_of(self.agent)):
            session = getattr(server, "session", None)
            try:
                if session is None:
                    raise RuntimeError("not connected")
                await asyncio.wait_for(session.send_ping(), 3.0)
            except Exception as error:
                if getattr(error, "code", None) == METHOD_NOT_FOUND:
                    continue  # it answered (some servers do not implement ping): alive
                reason = f"MCP server {server.name!r} stopped answering: {_one_line(error)}"
                self.drop(server, reason)
                lines.append(reason)
        return lines

    async def close(self) -> None:
        managers, self._managers = self._managers, []
        for manager in reversed(managers):
            with contextlib.suppress(Exception):  # a dead server must not break quitting
                await manager.cleanup_all()


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:200]}" if text else type(error).__name__


async def list_tools(agent: Agent) -> list[ToolInfo]:
    """Every tool the agent can call now, with where it comes from (``/tools``)."""
    out: list[ToolInfo] = []
    for tool in getattr(agent, "tools", None) or ():
        nested = agent_of_tool(tool)
        source = f"agent-as-tool: {nested.name}" if nested is not None else "function"
        out.append(ToolInfo(str(getattr(tool, "name", "?")), source, _describe(tool)))
    for server in getattr(agent, "mcp_servers", None) or ():
        try:
            tools = await server.list_tools()
        except Exception as error:
            out.append(ToolInfo("(unavailable)", f"mcp: {server.name}", _one_line(error)))
            continue
        for tool in tools:
            out.append(ToolInfo(tool.name, f"mcp: {server.name}", tool.description or ""))
    for handoff in getattr(agent, "handoffs", None) or ():
        target = getattr(handoff, "agent_name", None) or getattr(handoff, "name", "?")
        if hasattr(handoff, "mcp_servers"):  # an Agent given directly as a handoff
            target = handoff.name
        description = getattr(handoff, "handoff_description", None) or getattr(
            handoff, "tool_description", ""
        )
        out.append(ToolInfo(f"handoff → {target}", "handoff", str(description or "")))
    return out


def _describe(tool: object) -> str:
    return " ".join(str(getattr(tool, "description", "") or "").split())
