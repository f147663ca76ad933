"""Template files: reading JSON or TOML, resolving and checking their media header files, and the
check every command runs before a template is saved or sent (``require_valid``).

The file's forms become Meta's create request in ``waba_cli.domain.templates.forms``; here is
what touches the file system.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from waba_cli.domain.templates import forms, rules
from waba_cli.domain.templates.forms import TemplateInput
from waba_cli.domain.templates.rules import FILE_HANDLE_PREFIX, MEDIA_MAX_BYTES, UPLOAD_TYPES, Violation
from waba_cli.errors import UsageError, ValidationError

_LIST_KEYS = ("template", "templates")


class TemplateRulesError(ValidationError):
    """One or more templates break Meta's rules; ``problems`` lists them per template."""

    def __init__(self, problems: list[tuple[str, list[Violation]]]) -> None:
        count = sum(len(violations) for _, violations in problems)
        labels = ", ".join(label for label, _ in problems)
        super().__init__(
            labels,
            f"{count} rule(s) broken, nothing was saved or sent",
            "fix what is listed above and check again with `waba template validate`",
        )
        self.problems = problems


def read_template_file(path: Path, fmt: str | None = None) -> Any:
    """A template file's data: JSON or TOML (standard input for ``-``); see ``data_files.read_structured``."""
    from waba_cli.services.data_files import read_structured

    return read_structured(path, fmt)


def template_entries(data: Any, source: str) -> list[Any]:
    """The templates of a file: one object, a list, or a list under ``template`` (TOML ``[[template]]``)."""
    if isinstance(data, list):
        entries: Any = data
    elif isinstance(data, dict) and any(k in data for k in _LIST_KEYS) and "name" not in data:
        key = next(k for k in _LIST_KEYS if k in data)
        entries = data[key]
        others = [k for k in data if k != key]
        if others:
            raise UsageError(f"{source}: {', '.join(others)} next to the {key} list", f"put them inside each {key}")
        if not isinstance(entries, list):
            raise UsageError(f"{source}: {key} must be a list of templates", "write [[template]] tables in TOML")
    elif isinstance(data, dict):
        entries = [data]
    else:
        raise UsageError(f"{source}: must hold a template object or a list of templates, not {type(data).__name__}")
    if not entries:
        raise UsageError(f"{source}: holds no templates")
    return list(entries)


def load_templates(path: Path, fmt: str | None = None) -> list[TemplateInput]:
    """Every template of a file (standard input for ``-``) as Meta's create request; header files
    resolved next to the file (from the working directory for standard input)."""
    from waba_cli.services.data_files import base_dir, source_name

    entries = template_entries(read_template_file(path, fmt), source_name(path))
    templates = [forms.to_request(entry) for entry in entries]
    for template in templates:
        resolve_media_files(template.request, base_dir(path))
    return templates


def header_handles(request: Mapping[str, Any]) -> list[str]:
    """The ``header_handle`` list of the request's media header, as stored (changed in place by callers)."""
    components = request.get("components")
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and component.get("type") == "HEADER":
            example = component.get("example")
            handles = example.get("header_handle") if isinstance(example, dict) else None
            if isinstance(handles, list):
                return handles
    return []


def resolve_media_files(request: Mapping[str, Any], base_dir: Path) -> None:
    """Make ``file:`` header examples absolute (relative ones are relative to ``base_dir``)."""
    handles = header_handles(request)
    for index, handle in enumerate(handles):
        if isinstance(handle, str) and handle.startswith(FILE_HANDLE_PREFIX):
            path = Path(handle[len(FILE_HANDLE_PREFIX) :])
            # an unknown ~user or a NUL in the name: left as written, reported as a missing file
            with contextlib.suppress(RuntimeError, ValueError):
                path = path.expanduser()
                path = path if path.is_absolute() else (base_dir / path).resolve()
            handles[index] = FILE_HANDLE_PREFIX + str(path)


def media_file_violations(request: Mapping[str, Any]) -> list[Violation]:
    """Header example files that cannot be uploaded: missing, unreadable or too large."""
    found: list[Violation] = []
    for handle in header_handles(request):
        if not isinstance(handle, str) or not handle.startswith(FILE_HANDLE_PREFIX):
            continue
        path = Path(handle[len(FILE_HANDLE_PREFIX) :])
        if not path.is_file():
            found.append(
                Violation("HEADER", f"example file {path} does not exist", "check header_file", rules.ERR_HEADER)
            )
            continue
        mime = UPLOAD_TYPES.get(path.suffix.lower())
        limit = MEDIA_MAX_BYTES.get(mime.split("/")[0]) if mime else None
        size = path.stat().st_size
        if limit is not None and size > limit:
            found.append(
                Violation(
                    "HEADER",
                    f"example file {path.name} is {size} bytes; Meta takes at most {limit}",
                    "use a smaller file",
                    rules.ERR_HEADER,
                )
            )
    return found


def check(template: TemplateInput) -> list[Violation]:
    """Every problem of one template: its file entry, Meta's rules and its header example file."""
    return [*template.violations, *rules.validate(template.request), *media_file_violations(template.request)]


def require_valid(templates: Sequence[TemplateInput]) -> list[tuple[str, list[Violation]]]:
    """The warnings of ``templates``; raises ``TemplateRulesError`` if any rule is broken."""
    broken: list[tuple[str, list[Violation]]] = []
    warnings: list[tuple[str, list[Violation]]] = []
    seen: set[tuple[str, str]] = set()
    for template in templates:
        found = check(template)
        key = (template.name, template.language)
        if key in seen:
            found.append(
                Violation("name", f"{template.label} appears twice in the file", "keep one", rules.ERR_PARAMETER)
            )
        seen.add(key)
        errors = [v for v in found if v.is_error]
        if errors:
            broken.append((template.label, found))
        elif found:
            warnings.append((template.label, found))
    if broken:
        raise TemplateRulesError(broken)
    return warnings
