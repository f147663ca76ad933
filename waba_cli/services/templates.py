"""Message templates: local drafts, submission, sync with Meta, apply, preview, and template webhooks.

The rules a template must follow live in ``template_rules`` (pure, no I/O); this module stores
templates and talks to Meta through ``GraphAPI``. A ``MessageTemplate`` row is one (account, name,
language): a local ``DRAFT`` until it is submitted, then Meta's copy, kept current by
``template sync`` and by the template webhooks (``apply_template_webhook``). Every change of status,
category, quality or components is a ``TemplateEvent``: the history ``template show`` prints.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from waba_cli.db.models.templates import MessageTemplate, TemplateEvent
from waba_cli.db.timestamps import aware as _aware
from waba_cli.db.timestamps import utcnow
from waba_cli.errors import NotFoundError, OperationError, UsageError, ValidationError
from waba_cli.services import template_rules as rules
from waba_cli.services.template_rules import (
    FILE_HANDLE_PREFIX,
    UPLOAD_TYPES,
    Rendered,
    TemplateInput,
    Violation,
    count_variables,
    normalize_language,
)

if TYPE_CHECKING:
    from waba_cli.db.engine import Database
    from waba_cli.db.models.accounts import Account
    from waba_cli.graph.api import GraphAPI, Template

# -- template webhooks (reference §8.7) ----------------------------------------------------------

TEMPLATE_WEBHOOK_FIELDS = (
    "message_template_status_update",
    "message_template_quality_update",
    "template_category_update",
    "message_template_components_update",
)
_STATUS_LEN = 32
_QUALITY_LEN = 16
_NAME_LEN = 512
_LANGUAGE_LEN = 16
_ID_LEN = 32


def _enum(value: Any, limit: int = _STATUS_LEN) -> str | None:
    """An enumeration value from Meta, upper-cased; anything else (numbers, objects) is None."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().upper()[:limit]


def _text(value: Any, limit: int | None = None) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | str):
        text = str(value).strip()
        return (text[:limit] if limit else text) or None
    return None


def template_id_of(value: Any) -> str | None:
    """A template id as a string; webhooks send them as JSON numbers (reference §0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and value > 0:
        return str(value)[:_ID_LEN]
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()[:_ID_LEN]
    return None


def _jsonable(value: Any) -> Any:
    """``value`` as plain JSON (a webhook value normally is; anything else becomes text)."""
    try:
        return json.loads(json.dumps(value, default=str, allow_nan=False))
    except (TypeError, ValueError):
        return repr(value)


def _fingerprint(field: str, value: Any) -> str:
    try:
        text = json.dumps(value, sort_keys=True, default=str, allow_nan=False)
    except (TypeError, ValueError):
        text = repr(value)
    return hashlib.sha256(f"{field}\n{text}".encode()).hexdigest()


def _find_row(
    session: Session, account_id: int | None, template_id: str | None, name: str | None, language: str | None
) -> MessageTemplate | None:
    if template_id:
        query = select(MessageTemplate).where(MessageTemplate.template_id == template_id)
        if account_id is not None:
            query = query.where(MessageTemplate.account_id == account_id)
        row = session.exec(query.order_by(col(MessageTemplate.id))).first()
        if row is not None:
            return row
    if account_id is not None and name and language:
        return session.exec(
            select(MessageTemplate).where(
                MessageTemplate.account_id == account_id,
                MessageTemplate.name == name,
                MessageTemplate.language == language,
            )
        ).first()
    return None


def _last_webhook_fingerprint(session: Session, row_id: int, field: str) -> str | None:
    """The fingerprint of the latest webhook of ``field`` recorded for the template."""
    events = session.exec(
        select(TemplateEvent)
        .where(TemplateEvent.template_row_id == row_id, TemplateEvent.source == "webhook")
        .order_by(col(TemplateEvent.at).desc(), col(TemplateEvent.id).desc())
    ).all()
    for event in events:
        data = event.data if isinstance(event.data, dict) else {}
        if data.get("field") == field:
            fingerprint = data.get("fingerprint")
            return fingerprint if isinstance(fingerprint, str) else None
    return None


def apply_template_webhook(session: Session, account_id: int | None, field: str, value: dict[str, Any]) -> str:
    """Apply one template webhook change (reference §8.7) to its ``MessageTemplate`` row.

    ``field`` is the change's field, ``value`` its value; ``account_id`` the local account the
    delivery was routed to (None when unknown: the template is then found by its id alone). Writes
    the row and a ``TemplateEvent`` into ``session``; the caller commits. Returns one line for the log.

    - The template is found by ``message_template_id`` (a JSON number or a string), else by name
      and language within the account; a local draft found that way gets Meta's id.
    - An unknown template with a known account, name and language gets a row built from what the
      event says (status, category; components from a components update), so templates made in
      WhatsApp Manager show up at once; `template sync` fills in the rest. Without an account, name
      or language the event is recorded nowhere and skipped (the summary says so).
    - Idempotent: a delivery identical to the latest one of the same field for that template
      changes nothing and adds no event (redeliveries and replays of the latest event).
    - Never raises on unknown fields, unknown enum values or malformed values: unknown fields are
      skipped, unknown statuses and categories are stored as Meta sent them.
    """
    if not isinstance(value, dict):
        return f"{field}: value is not an object, skipped"
    if field not in TEMPLATE_WEBHOOK_FIELDS:
        # Meta's doc example sends quality updates under the status field (reference §8.7)
        return f"{field}: not a template field, skipped"
    if field == "message_template_status_update" and "new_quality_score" in value and "event" not in value:
        field = "message_template_quality_update"
    template_id = template_id_of(value.get("message_template_id"))
    name = _text(value.get("message_template_name"), _NAME_LEN)
    language_text = _text(value.get("message_template_language"))
    language = normalize_language(language_text)[:_LANGUAGE_LEN] if language_text else None
    label = f"template {name or '?'} {language or '?'}" + (f" ({template_id})" if template_id else "")
    row = _find_row(session, account_id, template_id, name, language)
    created = False
    if row is None:
        if account_id is None or not name or not language:
            return f"{field}: {label} is not known locally and the event does not say enough to add it; skipped"
        row = MessageTemplate(
            account_id=account_id,
            name=name,
            language=language,
            category=_enum(value.get("message_template_category") or value.get("new_category")) or "UNKNOWN",
            status="UNKNOWN",
            template_id=template_id,
        )
        session.add(row)
        session.flush()
        created = True
    assert row.id is not None
    fingerprint = _fingerprint(field, value)
    if not created and _last_webhook_fingerprint(session, row.id, field) == fingerprint:
        return f"{field}: {label}: repeated delivery, nothing changed"
    if template_id and row.template_id != template_id:
        row.template_id = template_id
    now = utcnow()
    appliers = {
        "message_template_status_update": _status_update,
        "message_template_quality_update": _quality_update,
        "template_category_update": _category_update,
        "message_template_components_update": _components_update,
    }
    event, summary = appliers[field](row, value, now)
    row.updated_at = now
    session.add(row)
    session.add(
        TemplateEvent(
            template_row_id=row.id,
            at=now,
            source="webhook",
            event=event[:64],
            status=row.status,
            category=_enum(value.get("correct_category")) if event == "CATEGORY_CHANGE_PENDING" else row.category,
            quality_score=row.quality_score[:_QUALITY_LEN] if row.quality_score else None,
            reason=row.rejected_reason if event == "REJECTED" else _text(value.get("reason")),
            data={"field": field, "fingerprint": fingerprint, "value": _jsonable(value)},
        )
    )
    session.flush()
    return f"{field}: {label}: {summary}" + (" (new local row)" if created else "")


def _status_update(row: MessageTemplate, value: dict[str, Any], now: datetime) -> tuple[str, str]:
    before = row.status
    status = _enum(value.get("event"))
    if status:
        row.status = status
        if status != before:
            row.status_updated_at = now
    reason = _enum(value.get("reason"), 64)
    if row.status == "REJECTED":
        row.rejected_reason = reason if reason and reason != "NONE" else row.rejected_reason
    elif status:
        row.rejected_reason = None
    category = _enum(value.get("message_template_category"))
    if category and category != row.category:
        row.previous_category, row.category = row.category, category
    summary = f"{before} -> {row.status}" if before != row.status else f"still {row.status}"
    if row.status == "REJECTED" and row.rejected_reason:
        summary += f" ({row.rejected_reason})"
    return status or "STATUS_UPDATE", summary


def _quality_update(row: MessageTemplate, value: dict[str, Any], now: datetime) -> tuple[str, str]:
    before = row.quality_score
    score = _enum(value.get("new_quality_score"), _QUALITY_LEN)
    if score:
        row.quality_score = score
    return "QUALITY_CHANGE", f"quality {before or '?'} -> {row.quality_score or '?'}"


def _category_update(row: MessageTemplate, value: dict[str, Any], now: datetime) -> tuple[str, str]:
    new = _enum(value.get("new_category"))
    correct = _enum(value.get("correct_category"))
    if correct and "previous_category" not in value:
        # the notice ~24 h ahead: new_category is the current one, correct_category the coming one
        row.correct_category = correct
        if new and new != row.category:
            row.previous_category, row.category = row.category, new
        return "CATEGORY_CHANGE_PENDING", f"category {row.category} will become {correct}"
    before = row.category
    previous = _enum(value.get("previous_category"))
    if new and new != row.category:
        row.previous_category = previous or row.category
        row.category = new
    if new:
        row.correct_category = None
    return "CATEGORY_CHANGE", f"category {before} -> {row.category}"


def _components_update(row: MessageTemplate, value: dict[str, Any], now: datetime) -> tuple[str, str]:
    row.components = merge_components_update(row.components, value)
    return "COMPONENTS_CHANGE", "components updated"


def merge_components_update(components: Any, value: dict[str, Any]) -> list[dict[str, Any]]:
    """``components`` with the texts of a ``message_template_components_update`` put in.

    The webhook carries the body, the header text, the footer and the URL/phone buttons, but no
    examples and no other buttons; what it does not carry is kept. A body whose variables changed
    loses its examples (they no longer fit; the next sync brings Meta's).
    """
    result = [dict(c) for c in components if isinstance(c, dict)] if isinstance(components, list) else []

    def component(kind: str) -> dict[str, Any] | None:
        return next((c for c in result if str(c.get("type", "")).upper() == kind), None)

    body_text = _text(value.get("message_template_element"))
    if body_text is not None:
        body = component("BODY")
        if body is None:
            body = {"type": "BODY"}
            result.append(body)
        if count_variables(body.get("text")) != count_variables(body_text):
            body.pop("example", None)
        body["text"] = body_text
    title = _text(value.get("message_template_title"))
    if title is not None:
        header = component("HEADER")
        if header is None:
            result.insert(0, {"type": "HEADER", "format": "TEXT", "text": title})
        elif str(header.get("format", "TEXT")).upper() == "TEXT":
            if count_variables(header.get("text")) != count_variables(title):
                header.pop("example", None)
            header["text"] = title
    footer_text = _text(value.get("message_template_footer"))
    if footer_text is not None:
        footer = component("FOOTER")
        if footer is None:
            footer = {"type": "FOOTER"}
            result.insert(len([c for c in result if str(c.get("type", "")).upper() in ("HEADER", "BODY")]), footer)
        footer["text"] = footer_text
    buttons = value.get("message_template_buttons")
    if isinstance(buttons, list) and buttons:
        _merge_buttons(result, [b for b in buttons if isinstance(b, dict)])
    return result


def _merge_buttons(components: list[dict[str, Any]], updates: list[dict[str, Any]]) -> None:
    block = next((c for c in components if str(c.get("type", "")).upper() == "BUTTONS"), None)
    if block is None:
        block = {"type": "BUTTONS", "buttons": []}
        components.append(block)
    current = block.get("buttons")
    buttons = [dict(b) for b in current if isinstance(b, dict)] if isinstance(current, list) else []
    used: set[int] = set()
    for update in updates:
        kind = _enum(update.get("message_template_button_type")) or "UNKNOWN"
        match = next(
            (i for i, b in enumerate(buttons) if i not in used and str(b.get("type", "")).upper() == kind), None
        )
        if match is None:
            buttons.append({"type": kind})
            match = len(buttons) - 1
        used.add(match)
        button = buttons[match]
        for key, target in (
            ("message_template_button_text", "text"),
            ("message_template_button_url", "url"),
            ("message_template_button_phone_number", "phone_number"),
        ):
            text = _text(update.get(key))
            if text is not None:
                button[target] = text
    block["buttons"] = buttons


# -- template files ------------------------------------------------------------------------------

CREATIONS_PER_HOUR = 100  # per WABA (reference §3.1)
TEMPLATES_MAX = 6000  # per WABA, verified business (reference §3.7)
TEMPLATES_UNVERIFIED_MAX = 250
APPROVED_EDITS_PER_DAY = 1  # reference §3.6
APPROVED_EDITS_PER_30_DAYS = 10
EDITABLE_STATUSES = ("APPROVED", "REJECTED", "PAUSED")
GONE_STATUSES = ("DELETED", "PENDING_DELETION")
# the resumable upload API's limits by kind (reference §7), checked before uploading
MEDIA_MAX_BYTES = {"image": 5 * 1024 * 1024, "video": 16 * 1024 * 1024, "application": 100 * 1024 * 1024}
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


def read_template_file(path: Path) -> Any:
    """A template file's data: JSON, or TOML (by extension; otherwise JSON, then TOML, is tried)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    if path.suffix.lower() != ".toml":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if path.suffix.lower() == ".json":
                raise UsageError(f"{path}: not valid JSON ({exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"{path}: not valid {'TOML' if path.suffix.lower() == '.toml' else 'JSON or TOML'} ({exc})"
        ) from None


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


def load_templates(path: Path) -> list[TemplateInput]:
    """Every template of a file as Meta's create request; header files resolved next to the file."""
    entries = template_entries(read_template_file(path), str(path))
    templates = [rules.to_request(entry) for entry in entries]
    for template in templates:
        resolve_media_files(template.request, path.parent)
    return templates


def _header_handles(request: Mapping[str, Any]) -> list[str]:
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
    handles = _header_handles(request)
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
    for handle in _header_handles(request):
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


# -- rows and history ---------------------------------------------------------------------------


def request_of(row: MessageTemplate) -> dict[str, Any]:
    """The stored template as Meta's create request."""
    request: dict[str, Any] = {
        "name": row.name,
        "language": row.language,
        "category": row.category,
        "parameter_format": row.parameter_format.lower(),
        "components": rules.plain_copy(rules.as_create_shape(row.category, row.components)),
    }
    if row.message_send_ttl_seconds is not None:
        request["message_send_ttl_seconds"] = row.message_send_ttl_seconds
    return request


def _row(session: Session, account: Account, name: str, language: str) -> MessageTemplate | None:
    return session.exec(
        select(MessageTemplate).where(
            MessageTemplate.account_id == account.id,
            MessageTemplate.name == name,
            MessageTemplate.language == language,
        )
    ).first()


def find_templates(session: Session, account: Account, name: str, language: str | None = None) -> list[MessageTemplate]:
    """The account's templates called ``name`` (in ``language`` only, if given); none is exit 2."""
    query = select(MessageTemplate).where(MessageTemplate.account_id == account.id, MessageTemplate.name == name)
    if language:
        query = query.where(MessageTemplate.language == normalize_language(language))
    rows = list(session.exec(query.order_by(col(MessageTemplate.language))).all())
    if not rows:
        where = f" in {normalize_language(language)}" if language else ""
        raise NotFoundError(
            f"no template {name!r}{where} in account {account.name}",
            "see `waba template list`; run `waba template sync` to fetch Meta's templates",
        )
    return rows


def find_template(session: Session, account: Account, name: str, language: str | None = None) -> MessageTemplate:
    """The one template called ``name``; several languages without ``language`` is exit 2."""
    rows = find_templates(session, account, name, language)
    if len(rows) > 1:
        raise UsageError(
            f"template {name!r} exists in {len(rows)} languages ({', '.join(r.language for r in rows)})",
            "pass --language L",
        )
    return rows[0]


def list_templates(
    session: Session, account: Account, *, status: str | None = None, category: str | None = None, limit: int = 50
) -> list[MessageTemplate]:
    """The account's templates, most recently changed first.

    A status is any word (Meta adds statuses, so unknown ones are allowed); a category must be one
    of Meta's three.
    """
    query = select(MessageTemplate).where(MessageTemplate.account_id == account.id)
    if status:
        wanted = status.strip().upper()
        if not wanted.replace("_", "").isalpha() or not wanted.isascii():
            raise ValidationError("--status", f"{status!r} is not a template status", "e.g. APPROVED or PENDING")
        query = query.where(MessageTemplate.status == wanted)
    if category:
        kind = category.strip().upper()
        if kind not in rules.CATEGORIES:
            choices = ", ".join(rules.CATEGORIES)
            raise ValidationError("--category", f"{category!r} is not a category", f"one of {choices}")
        query = query.where(MessageTemplate.category == kind)
    query = query.order_by(col(MessageTemplate.updated_at).desc(), col(MessageTemplate.id).desc()).limit(limit)
    return list(session.exec(query).all())


def history(session: Session, row: MessageTemplate) -> list[TemplateEvent]:
    """The template's events, oldest first."""
    return list(
        session.exec(
            select(TemplateEvent)
            .where(TemplateEvent.template_row_id == row.id)
            .order_by(col(TemplateEvent.at), col(TemplateEvent.id))
        ).all()
    )


def _event(row: MessageTemplate, source: str, event: str, now: datetime, **extra: Any) -> TemplateEvent:
    assert row.id is not None
    return TemplateEvent(
        template_row_id=row.id,
        at=now,
        source=source,
        event=event[:64],
        status=row.status,
        category=row.category,
        quality_score=row.quality_score,
        **extra,
    )


def save_draft(session: Session, account: Account, template: TemplateInput) -> MessageTemplate:
    """Store ``template`` as a local draft (a new one, or replacing a draft of the same name and language).

    A template Meta already has is not replaced: it changes through ``template apply``.
    """
    request = template.request
    row = _row(session, account, template.name, template.language)
    if row is not None and row.status not in ("DRAFT", *GONE_STATUSES):
        raise UsageError(
            f"template {template.label} already exists at Meta ({row.status})",
            "change it with `waba template apply FILE`, or delete it first",
        )
    event = "DRAFT_SAVED" if row is None else "DRAFT_REPLACED"
    now = utcnow()
    if row is None:
        assert account.id is not None
        row = MessageTemplate(account_id=account.id, name=template.name, language=template.language, category="")
    row.category = str(request["category"])
    row.status = "DRAFT"
    row.template_id = None
    row.parameter_format = str(request.get("parameter_format") or "positional").upper()
    row.components = request["components"]
    row.message_send_ttl_seconds = request.get("message_send_ttl_seconds")
    row.quality_score = row.rejected_reason = row.previous_category = row.correct_category = None
    row.status_updated_at = row.updated_at = now
    session.add(row)
    session.flush()
    session.add(_event(row, "local", event, now))
    session.flush()
    return row


# -- submitting and media examples --------------------------------------------------------------


async def upload_header_example(api: GraphAPI, app_id: str, path: Path) -> str:
    """Upload a media header example through the resumable upload API (reference §3.3); its handle.

    A transfer broken off by the network is resumed once from the offset Meta reports.
    """
    from waba_cli.graph.errors import GraphNetworkError

    content = path.read_bytes()
    file_type = UPLOAD_TYPES.get(path.suffix.lower())
    if file_type is None:
        raise ValidationError("header_file", f"{path.name} is not a type Meta takes ({', '.join(UPLOAD_TYPES)})")
    upload = await api.create_upload_session(app_id, file_name=path.name, file_length=len(content), file_type=file_type)
    session_id = upload.get("id")
    if not session_id:
        raise OperationError(f"Meta opened no upload session for {path.name}")
    try:
        answer = await api.upload_file(session_id, content)
    except GraphNetworkError:
        state = await api.get_upload_session(session_id)
        offset = int(state.get("file_offset") or 0)
        answer = await api.upload_file(session_id, content[offset:], file_offset=offset)
    handle = answer.get("h")
    if not handle:
        raise OperationError(f"Meta returned no handle for the upload of {path.name}")
    return handle


async def with_uploaded_media(api: GraphAPI, account: Account, request: Mapping[str, Any]) -> dict[str, Any]:
    """``request`` with its ``file:`` header examples uploaded and replaced by their handles.

    In a dry run nothing is uploaded: the request shows which file would be.
    """
    body: dict[str, Any] = json.loads(json.dumps(request))
    handles = _header_handles(body)
    for index, handle in enumerate(handles):
        if isinstance(handle, str) and handle.startswith(FILE_HANDLE_PREFIX):
            path = Path(handle[len(FILE_HANDLE_PREFIX) :])
            if api.client.dry_run:
                handles[index] = f"<handle of the upload of {path.name}>"
            else:
                handles[index] = await upload_header_example(api, account.app_id, path)
    return body


def record_submitted(
    session: Session, account: Account, body: Mapping[str, Any], answer: Mapping[str, Any], source: str
) -> MessageTemplate:
    """Store what Meta answered to a creation: id, status and category (Meta may re-categorise)."""
    name, language = str(body["name"]), normalize_language(str(body["language"]))
    row = _row(session, account, name, language)
    now = utcnow()
    if row is None:
        assert account.id is not None
        row = MessageTemplate(account_id=account.id, name=name, language=language, category="")
    asked = str(body.get("category") or "").upper()
    category = _enum(answer.get("category")) or asked
    row.previous_category = asked if category != asked else None
    row.category = category
    row.template_id = template_id_of(answer.get("id"))
    row.status = _enum(answer.get("status")) or "PENDING"
    row.parameter_format = str(body.get("parameter_format") or "positional").upper()
    row.components = json.loads(json.dumps(body.get("components") or []))
    row.message_send_ttl_seconds = body.get("message_send_ttl_seconds")
    row.rejected_reason = row.quality_score = row.correct_category = None
    row.status_updated_at = row.updated_at = now
    session.add(row)
    session.flush()
    session.add(_event(row, source, "SUBMITTED", now, data={"template_id": row.template_id}))
    session.flush()
    return row


async def create_at_meta(api: GraphAPI, account: Account, request: Mapping[str, Any]) -> tuple[dict[str, Any], Any]:
    """Upload header examples and post the template (reference §3.2); the body sent and Meta's answer."""
    body = await with_uploaded_media(api, account, request)
    answer = await api.create_template(account.waba_id, body)
    if not template_id_of(answer.get("id")):
        raise OperationError(
            f"Meta accepted template {body.get('name')} but returned no id",
            "run `waba template sync` to fetch it",
        )
    return body, answer


async def submit_template(db: Database, api: GraphAPI, account: Account, row: MessageTemplate) -> MessageTemplate:
    """Submit a local draft for review: ``POST /{waba-id}/message_templates``; records id, status and history."""
    if row.status != "DRAFT":
        raise UsageError(
            f"template {row.name} {row.language} is already at Meta ({row.status}, id {row.template_id})",
            "change it with `waba template apply FILE`",
        )
    template = TemplateInput(request_of(row))
    require_valid([template])
    body, answer = await create_at_meta(api, account, template.request)
    with db.transaction() as session:
        return record_submitted(session, account, body, answer, "submit")


# -- sync ------------------------------------------------------------------------------------------


@dataclass
class SyncResult:
    """What ``template sync`` found and changed."""

    account: str
    fetched: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    status_changes: int = 0
    drafts_matched: int = 0
    gone: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "fetched": self.fetched,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "status_changes": self.status_changes,
            "drafts_matched": self.drafts_matched,
            "gone": self.gone,
        }


async def fetch_templates(api: GraphAPI, account: Account) -> list[Template]:
    """Every template Meta has for the account, all pages, with quality and rejection reason."""
    from waba_cli.graph.api import TEMPLATE_FIELDS

    return await api.list_templates(account.waba_id, fields=TEMPLATE_FIELDS)


async def sync_templates(db: Database, api: GraphAPI, account: Account) -> SyncResult:
    """Bring the account's local templates in line with Meta's (one transaction)."""
    remote = await fetch_templates(api, account)
    with db.transaction() as session:
        return reconcile(session, account, remote)


def reconcile(session: Session, account: Account, remote: Iterable[Mapping[str, Any]]) -> SyncResult:
    """Write Meta's templates into the local rows; every change becomes a ``TemplateEvent``.

    A local draft with the name and language of one of Meta's templates becomes Meta's copy; a
    template Meta no longer lists is marked DELETED (its history stays); other drafts stay drafts.
    """
    result = SyncResult(account.name)
    rows = list(session.exec(select(MessageTemplate).where(MessageTemplate.account_id == account.id)).all())
    by_id = {r.template_id: r for r in rows if r.template_id}
    by_key = {(r.name, r.language): r for r in rows}
    seen: set[int] = set()
    now = utcnow()
    # events are written after one flush has given the new rows their ids (a flush per row is slow)
    changed: list[tuple[MessageTemplate, str, str | None]] = []
    for template in remote:
        result.fetched += 1
        name = _text(template.get("name"), _NAME_LEN)
        language_text = _text(template.get("language"))
        if not name or not language_text:
            continue
        language = normalize_language(language_text)[:_LANGUAGE_LEN]
        template_id = template_id_of(template.get("id"))
        row = (by_id.get(template_id) if template_id else None) or by_key.get((name, language))
        if row is None:
            assert account.id is not None
            row = MessageTemplate(account_id=account.id, name=name, language=language, category="", status="")
            by_key[(name, language)] = row
            _take_meta_copy(row, template, now)
            changed.append((row, row.status or "SYNCED", row.rejected_reason))
            result.added += 1
        else:
            if row.id is not None:  # else listed twice by Meta, and new in this sync
                seen.add(row.id)
            if row.status == "DRAFT":
                result.drafts_matched += 1
            events = _take_meta_copy(row, template, now)
            changed += [(row, event, reason) for event, reason in events]
            result.status_changes += sum(1 for event, _ in events if event not in _CHANGE_EVENTS)
            if events:
                result.updated += 1
            else:
                result.unchanged += 1
        session.add(row)
    for row in rows:
        if row.template_id and row.id not in seen and row.status not in GONE_STATUSES:
            row.status, row.status_updated_at, row.updated_at = "DELETED", now, now
            session.add(row)
            changed.append((row, "DELETED", "no longer listed by Meta"))
            result.gone += 1
    session.flush()
    session.add_all(_event(row, "sync", event, now, reason=reason) for row, event, reason in changed)
    session.flush()
    return result


_CHANGE_EVENTS = ("CATEGORY_CHANGE", "QUALITY_CHANGE", "COMPONENTS_CHANGE")


def _take_meta_copy(row: MessageTemplate, template: Mapping[str, Any], now: datetime) -> list[tuple[str, str | None]]:
    """Copy Meta's fields into ``row``; the changes worth a history event (event, reason)."""
    events: list[tuple[str, str | None]] = []
    was_draft = row.status == "DRAFT"
    row.template_id = template_id_of(template.get("id")) or row.template_id
    reason = _enum(template.get("rejected_reason"), 64)
    row.rejected_reason = reason if reason and reason != "NONE" else None
    status = _enum(template.get("status")) or "UNKNOWN"
    if status != row.status:
        if row.status:
            events.append((status, row.rejected_reason if status == "REJECTED" else None))
        row.status, row.status_updated_at = status, now
    category = _enum(template.get("category"))
    if category and category != row.category:
        if row.category and not was_draft:
            events.append(("CATEGORY_CHANGE", f"{row.category} -> {category}"))
        row.category = category
    quality = template.get("quality_score")
    score = _enum(quality.get("score"), _QUALITY_LEN) if isinstance(quality, Mapping) else None
    if score and score != row.quality_score:
        if row.quality_score:
            events.append(("QUALITY_CHANGE", f"{row.quality_score} -> {score}"))
        row.quality_score = score
    components = template.get("components")
    if isinstance(components, list):
        fresh = rules.normalize_components(components)
        if fresh != row.components:
            before = rules.comparable(row.category, row.parameter_format, row.components)["components"]
            after = rules.comparable(row.category, template.get("parameter_format"), fresh)["components"]
            if row.components and before != after and not was_draft:
                events.append(("COMPONENTS_CHANGE", None))
            row.components = fresh
    row.parameter_format = _enum(template.get("parameter_format"), 16) or row.parameter_format
    row.sub_category = _enum(template.get("sub_category")) or row.sub_category
    row.previous_category = _enum(template.get("previous_category")) or row.previous_category
    row.correct_category = _enum(template.get("correct_category"))
    ttl = template.get("message_send_ttl_seconds")
    row.message_send_ttl_seconds = ttl if isinstance(ttl, int) and not isinstance(ttl, bool) else None
    row.synced_at = now
    if events:
        row.updated_at = now
    return events


# -- delete ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deleted:
    name: str
    language: str
    template_id: str | None
    status: str  # before deletion
    at_meta: bool


async def delete_templates(
    db: Database, api: GraphAPI, account: Account, name: str, language: str | None = None
) -> list[Deleted]:
    """Delete a template at Meta and locally: one language (``hsm_id``), or every language of ``name``.

    Drafts Meta never saw are only removed locally; Meta's templates are kept as DELETED rows so their
    history stays visible. DISABLED templates cannot be deleted (reference §3.6): exit 2.
    """
    with db.session() as session:
        rows = find_templates(session, account, name, language)
    disabled = [r for r in rows if r.status == "DISABLED"]
    if disabled:
        raise UsageError(
            f"template {name} {disabled[0].language} is DISABLED, and Meta does not delete disabled templates"
        )
    at_meta = [r for r in rows if r.template_id and r.status not in GONE_STATUSES]
    if at_meta:
        if language:
            for row in at_meta:
                await api.delete_template(account.waba_id, name, hsm_id=row.template_id)
        else:
            await api.delete_template(account.waba_id, name)
    now = utcnow()
    result = [Deleted(r.name, r.language, r.template_id, r.status, r in at_meta) for r in rows]
    if api.client.dry_run:  # only drafts, so nothing was shown instead of sent: change nothing either
        return result
    with db.transaction() as session:
        for row in rows:
            fresh = session.get(MessageTemplate, row.id)
            if fresh is None or fresh.status in GONE_STATUSES:
                continue
            if fresh.template_id:
                fresh.status, fresh.status_updated_at, fresh.updated_at = "DELETED", now, now
                session.add(fresh)
                session.add(_event(fresh, "local", "DELETED", now))
            else:
                session.execute(delete(TemplateEvent).where(col(TemplateEvent.template_row_id) == fresh.id))
                session.delete(fresh)
    return result


# -- preview ---------------------------------------------------------------------------------------


def preview(row: MessageTemplate, params: Sequence[str]) -> Rendered:
    """The message as the customer would see it with ``params`` (the template's examples if none)."""
    slots = rules.variable_slots(row.components, row.category)
    if not params:
        return rules.render(row.components, row.category, rules.example_values(row.components, row.category))
    try:
        values = rules.bind(slots, params, named=row.parameter_format == "NAMED")
    except ValueError as exc:
        raise UsageError(f"template {row.name} {row.language}: {exc}") from None
    return rules.render(row.components, row.category, values)


# -- apply -----------------------------------------------------------------------------------------


@dataclass
class PlanItem:
    """One line of the plan ``template apply`` prints, and what became of it."""

    action: str  # create | edit | unchanged | only_on_meta | refused
    name: str
    language: str
    reason: str = ""
    status: str | None = None  # Meta's status before the change
    template_id: str | None = None
    changes: list[str] = field(default_factory=list)
    request: dict[str, Any] | None = None
    outcome: str | None = None  # None until applied: "done" or "failed: ..."

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "id": self.template_id,
            "changes": self.changes,
            "reason": self.reason,
            "outcome": self.outcome,
        }


@dataclass
class ApplyResult:
    items: list[PlanItem]
    dry_run: bool

    def counts(self) -> dict[str, int]:
        actions = ("create", "edit", "unchanged", "only_on_meta", "refused")
        return {action: sum(1 for i in self.items if i.action == action) for action in actions}

    @property
    def failed(self) -> list[PlanItem]:
        return [i for i in self.items if i.outcome and i.outcome != "done"]


def plan_changes(
    templates: Sequence[TemplateInput],
    remote: Sequence[Mapping[str, Any]],
    *,
    edits: Mapping[str, Sequence[datetime]],
    recent_creations: int,
    now: datetime,
) -> list[PlanItem]:
    """Compare the file with Meta: what to create, edit, leave, and what only Meta has.

    ``edits`` are the times waba edited each template (by id), ``recent_creations`` the templates it
    created in the last hour: Meta's edit rules and quotas (reference §3.1, §3.6) decide what is refused.
    """
    by_key: dict[tuple[str, str], Mapping[str, Any]] = {}
    for copy_at_meta in remote:
        name, language = _text(copy_at_meta.get("name")), _text(copy_at_meta.get("language"))
        if name and language:
            by_key[(name, normalize_language(language))] = copy_at_meta
    creations_left = CREATIONS_PER_HOUR - recent_creations
    room = TEMPLATES_MAX - sum(1 for t in by_key.values() if _enum(t.get("status")) not in GONE_STATUSES)
    items: list[PlanItem] = []
    wanted: set[tuple[str, str]] = set()
    for template in templates:
        key = (template.name, template.language)
        wanted.add(key)
        current = by_key.get(key)
        status = _enum(current.get("status")) if current else None
        template_id = template_id_of(current.get("id")) if current else None
        item = PlanItem("create", template.name, template.language, status=status, template_id=template_id)
        if current is None or status in GONE_STATUSES:
            item.request = template.request
            refusal = _creation_refusal(status, room, creations_left)
            if refusal:
                item.action, item.reason = "refused", refusal
            else:
                creations_left, room = creations_left - 1, room - 1
                item.reason = "not at Meta yet"
                if TEMPLATES_MAX - room > TEMPLATES_UNVERIFIED_MAX:
                    item.reason += (
                        f" (template {TEMPLATES_MAX - room}: over {TEMPLATES_UNVERIFIED_MAX} needs a verified business)"
                    )
            items.append(item)
            continue
        item.changes = _differences(template.request, current)
        if not item.changes:
            item.action = "unchanged"
            items.append(item)
            continue
        item.action = "edit"
        item.request = _edit_body(template.request, item.changes)
        refusal = _edit_refusal(status, item.changes, [_aware(t) for t in edits.get(template_id or "", [])], now)
        if refusal:
            item.action, item.reason, item.request = "refused", refusal, None
        items.append(item)
    for key, current in sorted(by_key.items()):
        status = _enum(current.get("status"))
        if key not in wanted and status not in GONE_STATUSES:
            items.append(
                PlanItem(
                    "only_on_meta",
                    key[0],
                    key[1],
                    reason="not in the file; left as it is",
                    status=status,
                    template_id=template_id_of(current.get("id")),
                )
            )
    return items


def _creation_refusal(status: str | None, room: int, creations_left: int) -> str | None:
    if status in GONE_STATUSES:
        return f"Meta is deleting this template ({status}); its name may be blocked for 30 days"
    if room <= 0:
        return f"the WABA holds Meta's maximum of {TEMPLATES_MAX} templates; delete some first"
    if creations_left <= 0:
        return f"Meta allows {CREATIONS_PER_HOUR} new templates per WABA per hour; apply again later"
    return None


def _differences(request: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    wanted_ttl = request.get("message_send_ttl_seconds")
    desired = rules.comparable(
        request.get("category"), request.get("parameter_format"), request.get("components"), wanted_ttl
    )
    actual = rules.comparable(
        current.get("category"),
        current.get("parameter_format"),
        current.get("components"),
        current.get("message_send_ttl_seconds") if wanted_ttl is not None else None,
    )
    return [
        key
        for key in ("category", "parameter_format", "components", "message_send_ttl_seconds")
        if desired[key] != actual[key]
    ]


def _edit_body(request: Mapping[str, Any], changes: Sequence[str]) -> dict[str, Any]:
    """Components are replaced wholesale (reference §3.6), so they are always sent."""
    body: dict[str, Any] = {"components": request.get("components")}
    for key in ("category", "parameter_format", "message_send_ttl_seconds"):
        if key in changes:
            body[key] = request.get(key)
    return body


def _edit_refusal(
    status: str | None, changes: Sequence[str], edited_at: Sequence[datetime], now: datetime
) -> str | None:
    if status not in EDITABLE_STATUSES:
        return f"Meta edits only {', '.join(EDITABLE_STATUSES)} templates; this one is {status}"
    if status != "APPROVED":
        return None
    if "category" in changes:
        return "the category of an APPROVED template cannot change; create it under a new name"
    last_day = [t for t in edited_at if now - t < timedelta(days=1)]
    if len(last_day) >= APPROVED_EDITS_PER_DAY:
        return f"edited in the last 24 hours; Meta allows {APPROVED_EDITS_PER_DAY} edit of an approved template per day"
    last_month = [t for t in edited_at if now - t < timedelta(days=30)]
    if len(last_month) >= APPROVED_EDITS_PER_30_DAYS:
        return f"edited {len(last_month)} times in 30 days; Meta allows {APPROVED_EDITS_PER_30_DAYS}"
    return None


def _quota_history(session: Session, account: Account, now: datetime) -> tuple[dict[str, list[datetime]], int]:
    """When waba edited each of the account's templates (by id), and how many it created in the last hour."""
    rows = session.exec(
        select(MessageTemplate.template_id, TemplateEvent.event, TemplateEvent.at)
        .join(TemplateEvent, col(TemplateEvent.template_row_id) == col(MessageTemplate.id))
        .where(MessageTemplate.account_id == account.id, col(TemplateEvent.event).in_(("EDITED", "SUBMITTED")))
    ).all()
    edits: dict[str, list[datetime]] = {}
    creations = 0
    for template_id, event, at in rows:
        if event == "EDITED" and template_id:
            edits.setdefault(template_id, []).append(_aware(at))
        elif event == "SUBMITTED" and now - _aware(at) < timedelta(hours=1):
            creations += 1
    return edits, creations


async def apply_templates(
    db: Database, api: GraphAPI, account: Account, templates: Sequence[TemplateInput], *, dry_run: bool = False
) -> ApplyResult:
    """Make Meta's templates match ``templates``: plan, then (unless ``dry_run``) create and edit.

    Nothing is sent if a template breaks a rule. A failed change does not stop the others; each
    outcome is in the result. Templates only Meta has are reported, never deleted.
    """
    from waba_cli.graph.errors import GraphError, GraphNetworkError

    require_valid(templates)
    remote = await fetch_templates(api, account)
    now = utcnow()
    with db.session() as session:
        edits, creations = _quota_history(session, account, now)
    items = plan_changes(templates, remote, edits=edits, recent_creations=creations, now=now)
    result = ApplyResult(items, dry_run)
    if dry_run:
        return result
    with db.transaction() as session:
        reconcile(session, account, remote)
    for item in items:
        if item.action not in ("create", "edit") or item.request is None:
            continue
        try:
            if item.action == "create":
                body, answer = await create_at_meta(api, account, item.request)
                with db.transaction() as session:
                    row = record_submitted(session, account, body, answer, "apply")
                item.template_id = row.template_id
            else:
                assert item.template_id is not None
                body = await with_uploaded_media(api, account, item.request)
                await api.edit_template(item.template_id, body)
                with db.transaction() as session:
                    record_edited(session, account, item.template_id, body, item.changes)
        except (GraphError, GraphNetworkError) as exc:
            item.outcome = f"failed: {exc}"
            continue
        item.outcome = "done"
    return result


def record_edited(
    session: Session, account: Account, template_id: str, body: Mapping[str, Any], changes: Sequence[str]
) -> MessageTemplate | None:
    """Store an edit Meta accepted; the template goes back through review (reference §3.6)."""
    row = session.exec(
        select(MessageTemplate).where(
            MessageTemplate.account_id == account.id, MessageTemplate.template_id == template_id
        )
    ).first()
    if row is None:
        return None
    now = utcnow()
    row.components = json.loads(json.dumps(body.get("components") or []))
    if "category" in changes:
        row.previous_category, row.category = row.category, str(body.get("category") or row.category).upper()
    if "parameter_format" in changes:
        row.parameter_format = str(body.get("parameter_format") or "positional").upper()
    if "message_send_ttl_seconds" in changes:
        row.message_send_ttl_seconds = body.get("message_send_ttl_seconds")
    before = row.status
    row.status, row.rejected_reason = "PENDING", None
    row.status_updated_at = row.updated_at = now
    session.add(row)
    session.flush()
    session.add(_event(row, "apply", "EDITED", now, data={"changes": list(changes), "status_before": before}))
    session.flush()
    return row
