"""Questions on a terminal: typed values checked as they are entered, hidden secrets, yes/no, a pick
from a numbered list, and a bounded wait the operator can skip.

Built on prompt_toolkit (completion menus, line editing, hidden input), imported on first use so
that `waba --help` and `waba account list` never load it. A value that fails its check is not
accepted: the reason shows under the line and the text stays there to be corrected, never retyped.
Everything is drawn on stderr, so stdout keeps only the command's result (``--json`` included).
"""

from __future__ import annotations

import os
import select
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from waba_cli.domain.text import printable

if TYPE_CHECKING:
    from prompt_toolkit.completion import Completer
    from rich.console import Console

T = TypeVar("T")


class Prompter:
    """Asks the operator; each question is a fresh prompt (nothing carries over between them)."""

    def __init__(self) -> None:
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True, highlight=False, no_color=bool(os.environ.get("NO_COLOR")))
        return self._console

    # -- drawing -----------------------------------------------------------------------------

    def screen(self, title: str, lines: Iterable[str] = ()) -> None:
        """A new screen: a rule with the title, then its lines."""
        from rich.rule import Rule
        from rich.text import Text

        self.console.print()
        self.console.print(Rule(Text(title, style="bold"), align="left"))
        for line in lines:
            self.say(line)

    def say(self, text: str, style: str | None = None) -> None:
        from rich.text import Text

        self.console.print(Text(printable(text), style=style or ""))

    def help_line(self, text: str) -> None:
        self.say(f"  {text}", "dim")

    def ok(self, text: str) -> None:
        self.say(f"✓ {text}", "green")

    def warn(self, text: str) -> None:
        self.say(f"! {text}", "yellow")

    def loud(self, title: str, lines: Sequence[str]) -> None:
        """A warning that must not be missed: a panel."""
        from rich.panel import Panel
        from rich.text import Text

        body = Text("\n".join(printable(line) for line in lines))
        self.console.print(Panel(body, title=Text(title, style="bold"), border_style="yellow", expand=False))

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=Text(title) if title else None, header_style="bold", title_justify="left")
        for column in columns:
            table.add_column(Text(column))
        for row in rows:
            table.add_row(*(Text("" if cell is None else printable(str(cell))) for cell in row))
        self.console.print(table)

    # -- asking ------------------------------------------------------------------------------

    def ask(
        self,
        label: str,
        check: Callable[[str], T],
        *,
        default: str | None = None,
        secret: bool = False,
        choices: Sequence[str] = (),
        several: bool = False,
    ) -> T:
        """A typed value, accepted once ``check(text)`` returns (its ``ValueError`` is the reason shown).

        ``default`` is shown in brackets and taken when the answer is empty. ``choices`` are offered
        as completions (matching anywhere, any case); with ``several`` the answer is a
        comma-separated list and each word is completed on its own.
        """
        from prompt_toolkit import PromptSession
        from prompt_toolkit.validation import ValidationError, Validator

        checked: list[T] = []

        class Check(Validator):
            def validate(self, document: Any) -> None:
                checked.clear()
                text = document.text if document.text.strip() or default is None else default
                try:
                    checked.append(check(text))
                except ValueError as exc:
                    raise ValidationError(message=f"✗ {exc}", cursor_position=len(document.text)) from None

        shown = f" [{_short(default)}]" if default else ""
        session: PromptSession[str] = PromptSession(output=_stderr_output())
        session.prompt(
            f"{label}{shown}: ",
            is_password=secret,
            validator=Check(),
            validate_while_typing=False,
            completer=_completer(choices, several) if choices else None,
            complete_while_typing=bool(choices),
        )
        return checked[0]

    def confirm(self, question: str, *, default: bool = True) -> bool:
        def yes_no(text: str) -> bool:
            answer = text.strip().lower()
            if not answer:
                return default
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False
            raise ValueError("answer y or n")

        return self.ask(f"{question} [{'Y/n' if default else 'y/N'}]", yes_no)

    def pick(
        self,
        what: str,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        typed: Callable[[str], T],
        chosen: Callable[[int], T],
        title: str | None = None,
    ) -> T:
        """A numbered table; the answer is a row number (``chosen(index)``) or a value of its own (``typed``)."""
        self.table(["#", *columns], [[i, *row] for i, row in enumerate(rows, start=1)], title=title)

        def check(text: str) -> T:
            answer = text.strip()
            if answer.isdigit() and 1 <= int(answer) <= len(rows) and len(answer) <= 3:
                return chosen(int(answer) - 1)
            return typed(answer)

        return self.ask(f"{what} (1-{len(rows)}, or type it)", check, default="1" if len(rows) == 1 else None)

    def wait_for(self, found: Callable[[], T | None], *, timeout: float, poll: float = 0.5) -> T | None:
        """``found()`` until it returns something or ``timeout`` seconds pass; Enter (or Ctrl-C) skips."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                result = found()
                if result is not None:
                    return result
                if _enter_pressed(poll):
                    return None
        except KeyboardInterrupt:
            return None
        return None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _enter_pressed(seconds: float) -> bool:
    """Wait up to ``seconds`` for a line on stdin (a terminal in its normal line mode)."""
    try:
        ready, _, _ = select.select([sys.stdin], [], [], seconds)
    except (OSError, ValueError):  # no selectable stdin (Windows consoles): just wait
        time.sleep(seconds)
        return False
    if ready:
        sys.stdin.readline()
        return True
    return False


def _stderr_output() -> Any:
    from prompt_toolkit.output import create_output

    return create_output(stdout=sys.stderr)


def _completer(choices: Sequence[str], several: bool) -> Completer:
    from prompt_toolkit.completion import Completer, Completion, WordCompleter

    words = WordCompleter(list(choices), ignore_case=True, match_middle=True, sentence=True)
    if not several:
        return words

    class EachWord(Completer):
        """Completes the word after the last comma."""

        def get_completions(self, document: Any, complete_event: Any) -> Any:
            current = document.text_before_cursor.rsplit(",", 1)[-1].lstrip()
            for choice in choices:
                if current.lower() in choice.lower():
                    yield Completion(choice, start_position=-len(current))

    return EachWord()
