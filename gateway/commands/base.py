"""What a citizen command is, and the registry that holds them.

A `CitizenCommand` is the whole of one command in one place: its keyword aliases, the
(pure) argument parser from gateway.parsers.commands, and the handler that acts on it and
returns the reply text (whose template lives next to it, in the command's module).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.models import InboundMessage
from gateway.parsers.commands import ArgumentParser, Command, Grammar
from gateway.runtime import Runtime


@dataclass(frozen=True)
class Turn:
    """One MO being answered, inside the transaction that marks it done (`fresh`: the MO was
    claimed PENDING in a batch, so nothing was written for it before; see
    gateway.services.conversation.handle_batch)."""

    rt: Runtime
    s: Session
    msg: InboundMessage
    fresh: bool = False

    @property
    def short_code(self) -> str:
        return self.rt.settings.short_code


Handler = Callable[[Turn, Command], str]
"""Act on a parsed command (set `turn.msg.report` when it concerns one) and return the reply."""


@dataclass(frozen=True)
class CitizenCommand:
    """One citizen command: `kind` (stored as the MO's `command`), its keyword `aliases`,
    its argument `parse`r and its `answer` handler. `files`: a well-formed one puts something
    on a report's record (a report, a citizen's answer), which the complaint system hears of."""

    kind: str
    aliases: tuple[str, ...]
    parse: ArgumentParser
    answer: Handler
    files: bool = False


def _spelling(alias: str) -> str:
    return " ".join(alias.upper().split())


class Registry:
    """The registered commands and the grammar compiled from their aliases. `add` refuses a
    kind or an alias that is taken, so two commands never compete for one keyword."""

    def __init__(self, commands: Iterable[CitizenCommand] = ()):
        self._commands: dict[str, CitizenCommand] = {}
        self._grammar = Grammar({})
        for command in commands:
            self.add(command)

    def add(self, command: CitizenCommand) -> None:
        """Register `command` (tests add throwaway ones and `remove` them afterwards)."""
        if command.kind in self._commands:
            raise ValueError(f"command kind {command.kind} is already registered")
        taken = {_spelling(a): c.kind for c in self._commands.values() for a in c.aliases}
        for alias in command.aliases:
            if _spelling(alias) in taken:
                raise ValueError(f"alias {alias!r} is already {taken[_spelling(alias)]}'s")
        self._commands[command.kind] = command
        self._compile()

    def remove(self, kind: str) -> None:
        """Unregister the command of `kind`."""
        del self._commands[kind]
        self._compile()

    def _compile(self) -> None:
        self._grammar = Grammar({c.kind: (c.aliases, c.parse) for c in self._commands.values()})

    def parse(self, text: str) -> Command:
        """Parse one inbound SMS body into a `Command`; pure, never raises."""
        return self._grammar.parse(text)

    def answer(self, turn: Turn, command: Command) -> str:
        """Act on `command` with its registered handler; the reply text."""
        return self._commands[command.kind].answer(turn, command)

    def files(self, command: Command) -> bool:
        """True when `command` is one that puts something on a report's record."""
        return self._commands[command.kind].files

    @property
    def keywords(self) -> dict[str, tuple[str, ...]]:
        """Keyword aliases per kind, in registration order."""
        return {kind: c.aliases for kind, c in self._commands.items()}

    @property
    def kinds(self) -> tuple[str, ...]:
        """The registered kinds."""
        return tuple(self._commands)
