"""The command palette (Ctrl+P) offers the same commands as the slash commands."""

from __future__ import annotations

from functools import partial
from typing import cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.slash import COMMANDS, CommandTarget


class SlashCommandProvider(Provider):
    def _commands(self) -> list[tuple[str, str]]:
        out = [(c.name, c.help) for c in COMMANDS if c.name != "/agent"]
        out += [
            ("/agent assistant", "switch to the assistant"),
            ("/agent game-master", "switch to the game master"),
        ]
        return out

    async def discover(self) -> Hits:
        app = cast(CommandTarget, self.app)
        for name, help_text in self._commands():
            yield DiscoveryHit(name, partial(app.run_slash_command, name), help=help_text)

    async def search(self, query: str) -> Hits:
        app = cast(CommandTarget, self.app)
        matcher = self.matcher(query)
        for name, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(name),
                    partial(app.run_slash_command, name),
                    help=help_text,
                )
