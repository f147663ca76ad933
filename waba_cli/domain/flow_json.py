"""Local Flow JSON checks: what `waba flow create` and `flow upload` refuse before Meta sees a file.

Meta validates an uploaded Flow JSON and answers with ``validation_errors``, but only after the
flow exists; a syntax slip or a screen that routes nowhere is cheaper to catch here, with the
line and column of the value at fault. The checks follow reference §6 and Meta's Flow JSON
rules for the common components; Meta's own validation stays the judge of everything else.
Each problem names its rule, so a test (and a reader) can tell them apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from waba_cli.domain.documents import loads_json

FLOW_CATEGORIES = (
    "SIGN_UP",
    "SIGN_IN",
    "APPOINTMENT_BOOKING",
    "LEAD_GENERATION",
    "CONTACT_US",
    "CUSTOMER_SUPPORT",
    "SURVEY",
    "OTHER",
)
FLOW_STATUSES = ("DRAFT", "PUBLISHED", "DEPRECATED", "THROTTLED", "BLOCKED")
# Flow JSON versions Meta accepts (§6: 2.1 ... 7.3; older ones expire)
FLOW_JSON_VERSIONS = (
    "2.1",
    "3.0",
    "3.1",
    "4.0",
    "5.0",
    "5.1",
    "6.0",
    "6.1",
    "6.2",
    "6.3",
    "7.0",
    "7.1",
    "7.2",
    "7.3",
)
DATA_API_VERSIONS = ("3.0", "4.0")
# the properties each common component cannot do without
REQUIRED_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "TextHeading": ("text",),
    "TextSubheading": ("text",),
    "TextBody": ("text",),
    "TextCaption": ("text",),
    "RichText": ("text",),
    "TextInput": ("name", "label"),
    "TextArea": ("name", "label"),
    "CheckboxGroup": ("name", "data-source"),
    "RadioButtonsGroup": ("name", "data-source"),
    "Dropdown": ("name", "label", "data-source"),
    "ChipsSelector": ("name", "label", "data-source"),
    "Footer": ("label", "on-click-action"),
    "OptIn": ("name", "label"),
    "EmbeddedLink": ("text", "on-click-action"),
    "DatePicker": ("name", "label"),
    "CalendarPicker": ("name", "label"),
    "Image": ("src",),
    "PhotoPicker": ("name", "label"),
    "DocumentPicker": ("name", "label"),
    "NavigationList": ("name", "list-items"),
    "Form": ("name", "children"),
    "If": ("condition", "then"),
    "Switch": ("value", "cases"),
}
# the rules, by name: each problem carries one
RULES = (
    "json-syntax",
    "json-object",
    "version",
    "screens",
    "screen-id",
    "duplicate-screen-id",
    "terminal-screen",
    "routing-model-screen",
    "routing-model-cycle",
    "navigate-screen",
    "data-api-version",
    "routing-model-required",
    "endpoint-required",
    "component-property",
)


@dataclass(frozen=True)
class Problem:
    """One broken rule, with where it is (1-based line and column; None when not known)."""

    rule: str
    message: str
    path: str = ""
    line: int | None = None
    column: int | None = None

    def where(self) -> str:
        place = f"line {self.line}, column {self.column}" if self.line is not None else ""
        return ", ".join(p for p in (place, self.path) if p)


@dataclass(frozen=True)
class FlowJsonCheck:
    """What the local checks found, and what they learnt of the flow on the way."""

    problems: list[Problem] = field(default_factory=list)
    version: str | None = None
    data_api_version: str | None = None
    first_screen: str | None = None
    screens: tuple[str, ...] = ()
    exchanges_data: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems


def check_categories(categories: Sequence[str]) -> list[str]:
    """The categories, upper-cased; a ValueError naming the first one Meta does not know."""
    chosen = [c.strip().upper() for c in categories if c.strip()]
    for category in chosen:
        if category not in FLOW_CATEGORIES:
            raise ValueError(f"unknown category {category!r}: one of {', '.join(FLOW_CATEGORIES)}")
    return chosen or ["OTHER"]


def check_flow_json(text: str, *, endpoint_uri: str | None = None) -> FlowJsonCheck:
    """Check a Flow JSON document; ``endpoint_uri`` is the one the flow will have (if any)."""
    try:
        document = loads_json(text, "the Flow JSON")
    except json.JSONDecodeError as exc:
        return FlowJsonCheck([Problem("json-syntax", f"not valid JSON: {exc.msg}", "", exc.lineno, exc.colno)])
    spans = json_spans(text)
    problems: list[Problem] = []

    def report(rule: str, message: str, path: str) -> None:
        line, column, _, _ = spans.get(path, (None, None, None, None))
        problems.append(Problem(rule, message, path, line, column))

    if not isinstance(document, dict):
        report("json-object", "the Flow JSON must be an object", "")
        return FlowJsonCheck(problems)
    version = document.get("version")
    if version is None:
        report("version", f"missing 'version' (one of {', '.join(FLOW_JSON_VERSIONS)})", "")
    elif str(version) not in FLOW_JSON_VERSIONS:
        report("version", f"version {version} is not supported (one of {', '.join(FLOW_JSON_VERSIONS)})", "version")
    screens = _screens(document, report)
    ids = [screen_id for screen_id, _ in screens]
    known = set(ids)
    _routing(document.get("routing_model"), known, report)
    exchanges = False
    for index, (_, screen) in enumerate(screens):
        layout = screen.get("layout")
        children = layout.get("children") if isinstance(layout, dict) else None
        path = f"screens[{index}].layout.children"
        for child_path, child in _components(children, path):
            exchanges = _component(child, child_path, known, report) or exchanges
    data_api = document.get("data_api_version")
    if data_api is not None and str(data_api) not in DATA_API_VERSIONS:
        report("data-api-version", f"data_api_version {data_api} is not one of {', '.join(DATA_API_VERSIONS)}", "")
    if exchanges or data_api is not None:
        if data_api is None:
            report("data-api-version", "the flow exchanges data with an endpoint: set 'data_api_version'", "")
        if not isinstance(document.get("routing_model"), dict):
            report("routing-model-required", "a flow with an endpoint needs a 'routing_model'", "")
        if not endpoint_uri:
            report(
                "endpoint-required",
                "the flow exchanges data with an endpoint: give --endpoint-uri (https://...)",
                "data_api_version" if data_api is not None else "",
            )
    return FlowJsonCheck(
        problems,
        str(version) if version is not None else None,
        str(data_api) if data_api is not None else None,
        ids[0] if ids else None,
        tuple(ids),
        exchanges or data_api is not None,
    )


Report = Any  # (rule, message, path) -> None


def _screens(document: Mapping[str, Any], report: Report) -> list[tuple[str, dict[str, Any]]]:
    raw = document.get("screens")
    if not isinstance(raw, list) or not raw:
        report("screens", "missing 'screens': a flow has at least one screen", "")
        return []
    found: list[tuple[str, dict[str, Any]]] = []
    terminal = False
    for index, screen in enumerate(raw):
        path = f"screens[{index}]"
        if not isinstance(screen, dict):
            report("screens", "a screen must be an object", path)
            continue
        screen_id = screen.get("id")
        if not isinstance(screen_id, str) or not screen_id or not _is_screen_id(screen_id):
            report("screen-id", "a screen id is letters and underscores (e.g. APPOINTMENT)", f"{path}.id")
            continue
        if any(screen_id == seen for seen, _ in found):
            report("duplicate-screen-id", f"screen id {screen_id} is used more than once", f"{path}.id")
            continue
        terminal = terminal or screen.get("terminal") is True
        found.append((screen_id, screen))
    if found and not terminal:
        report("terminal-screen", 'no terminal screen: mark the last one "terminal": true', "screens")
    return found


def _is_screen_id(value: str) -> bool:
    return value.replace("_", "").isalpha() and value.isascii()


def _routing(model: Any, known: set[str], report: Report) -> None:
    if model is None:
        return
    if not isinstance(model, dict):
        report("routing-model-screen", "routing_model must be an object: screen -> [next screens]", "routing_model")
        return
    graph: dict[str, list[str]] = {}
    for source, targets in model.items():
        path = f"routing_model.{source}"
        if source not in known:
            report("routing-model-screen", f"routing_model names screen {source}, which does not exist", path)
        nexts = targets if isinstance(targets, list) else []
        for index, target in enumerate(nexts):
            if target not in known:
                report(
                    "routing-model-screen",
                    f"routing_model routes {source} to {target}, which does not exist",
                    f"{path}[{index}]",
                )
        graph[str(source)] = [str(t) for t in nexts]
    cycle = _cycle(graph)
    if cycle:
        report("routing-model-cycle", f"routing_model has a cycle: {' -> '.join(cycle)}", f"routing_model.{cycle[0]}")


def _cycle(graph: Mapping[str, list[str]]) -> list[str]:
    """A cycle of the routing graph (its screens in order, the first repeated at the end), or []."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def _components(children: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every component under ``children``, nested ones (Form, If, Switch) included, with its path."""
    if not isinstance(children, list):
        return
    for index, child in enumerate(children):
        child_path = f"{path}[{index}]"
        if not isinstance(child, dict):
            continue
        yield child_path, child
        yield from _components(child.get("children"), f"{child_path}.children")
        for branch in ("then", "else"):
            yield from _components(child.get(branch), f"{child_path}.{branch}")
        cases = child.get("cases")
        if isinstance(cases, dict):
            for case, nested in cases.items():
                yield from _components(nested, f"{child_path}.cases.{case}")


def _component(child: Mapping[str, Any], path: str, known: set[str], report: Report) -> bool:
    """Check one component; True when one of its actions exchanges data with an endpoint."""
    kind = child.get("type")
    for name in REQUIRED_PROPERTIES.get(str(kind), ()):
        if child.get(name) in (None, "", []):
            report("component-property", f"{kind} needs '{name}'", path)
    exchanges = False
    for key, action in child.items():
        if not (key.startswith("on-") and key.endswith("-action")) or not isinstance(action, dict):
            continue
        verb = action.get("name")
        if verb == "data_exchange":
            exchanges = True
        elif verb == "navigate":
            target = action.get("next")
            screen = target.get("name") if isinstance(target, dict) else None
            if screen not in known:
                report("navigate-screen", f"{kind} navigates to screen {screen}, which does not exist", f"{path}.{key}")
    return exchanges


def json_spans(text: str) -> dict[str, tuple[int, int, int, int]]:
    """Where each value of a JSON document is: path -> (line, column, end line, end column), 1-based."""
    spans: dict[str, tuple[int, int, int, int]] = {}
    decoder = json.JSONDecoder()
    line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def position(index: int) -> tuple[int, int]:
        low, high = 0, len(line_starts) - 1
        while low < high:
            mid = (low + high + 1) // 2
            if line_starts[mid] <= index:
                low = mid
            else:
                high = mid - 1
        return low + 1, index - line_starts[low] + 1

    def skip(index: int) -> int:
        while index < len(text) and text[index] in " \t\r\n":
            index += 1
        return index

    def value(index: int, path: str) -> int:
        index = skip(index)
        start = index
        if text[index] == "{":
            index = skip(index + 1)
            while text[index] != "}":
                key, index = decoder.raw_decode(text, index)
                index = skip(index) + 1  # the colon
                index = value(index, f"{path}.{key}" if path else str(key))
                index = skip(index)
                if text[index] == ",":
                    index = skip(index + 1)
            index += 1
        elif text[index] == "[":
            index = skip(index + 1)
            item = 0
            while text[index] != "]":
                index = skip(value(index, f"{path}[{item}]"))
                item += 1
                if text[index] == ",":
                    index = skip(index + 1)
            index += 1
        else:
            _, index = decoder.raw_decode(text, index)
        spans[path] = (*position(start), *position(max(start, index - 1)))
        return index

    try:
        value(0, "")
    except (ValueError, IndexError):
        return {}
    return spans


def meta_error_line(error: Mapping[str, Any]) -> str:
    """One of Meta's ``validation_errors`` as a line: the message, where (line/column, pointer
    paths) when Meta says, and the error code (§6: pointers and positions may be absent)."""
    message = str(error.get("message") or error.get("error") or "validation error")
    places: list[str] = []
    if error.get("line_start") is not None:
        places.append(f"line {error.get('line_start')}, column {error.get('column_start', '?')}")
    pointers = error.get("pointers")
    for pointer in pointers if isinstance(pointers, list) else ():
        if isinstance(pointer, Mapping) and pointer.get("path"):
            places.append(str(pointer["path"]))
    code = str(error.get("error") or "")
    where = f" ({'; '.join(places)})" if places else ""
    return f"{code + ': ' if code and code != message else ''}{message}{where}"
