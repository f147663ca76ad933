"""`waba flow create | upload | publish | deprecate | delete`: a flow's life at Meta, checked first.

The Flow JSON is checked locally (``domain.flow_json``) before anything is sent: a broken file is
exit 2 with every problem listed, and nothing exists at Meta. Then the flow is created, its JSON
uploaded as the ``FLOW_JSON`` asset, and Meta's own ``validation_errors`` kept on the row and
returned (the command exits 1 when there are any). The JSON and its first screen are kept locally,
so `waba send flow` knows where the flow starts. A published flow is immutable: a new version is a
clone (``--clone``), which is what ``upload`` says when it refuses one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from waba_cli.db.models.flows import Flow
from waba_cli.db.timestamps import utcnow
from waba_cli.domain.flow_json import FlowJsonCheck, Problem, check_categories, check_flow_json
from waba_cli.errors import DryRunRequest, UsageError, ValidationError
from waba_cli.services.context import run
from waba_cli.services.flows.store import NAME_LEN, apply_meta, find_flow, require_flow

if TYPE_CHECKING:
    from waba_cli.graph.api import GraphAPI
    from waba_cli.services.context import CommandContext

T = TypeVar("T")
FLOW_JSON_MAX_BYTES = 10 * 1024 * 1024


class FlowJsonError(UsageError):
    """The Flow JSON breaks local rules (exit 2); ``problems`` lists every one."""

    def __init__(self, path: Path, problems: Sequence[Problem]) -> None:
        count = len(problems)
        super().__init__(
            f"{path}: {count} problem{'s' if count != 1 else ''} in the Flow JSON, nothing was sent",
            "fix the file and run the command again",
        )
        self.problems = list(problems)


@dataclass
class Saved:
    """What became of a create or upload: the flow, Meta's validation errors, whether it was published."""

    flow: Flow | None
    validation_errors: list[dict[str, Any]] = field(default_factory=list)
    published: bool = False
    dry_run_requests: list[dict[str, Any]] = field(default_factory=list)


def read_flow_json(
    path: Path, *, endpoint_uri: str | None = None, require_endpoint: bool = True
) -> tuple[str, FlowJsonCheck]:
    """The file's text and its check; exit 2 (``FlowJsonError``) when a rule is broken."""
    try:
        if path.stat().st_size > FLOW_JSON_MAX_BYTES:
            raise ValidationError("--json", f"{path} is larger than 10 MB")
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValidationError("--json", f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValidationError("--json", f"{path} is not UTF-8 text") from None
    check = check_flow_json(text, endpoint_uri=endpoint_uri)
    problems = [p for p in check.problems if require_endpoint or p.rule != "endpoint-required"]
    if problems:
        raise FlowJsonError(path, problems)
    return text, check


def with_api(context: CommandContext, call: Callable[[GraphAPI], Awaitable[T]]) -> T:
    account = context.account
    credentials = context.credentials(account)

    async def go() -> T:
        async with context.graph(credentials, account.id) as api:
            return await call(api)

    return run(go)


async def _step(requests: list[dict[str, Any]] | None, call: Awaitable[T]) -> T | None:
    """One Graph call; in dry-run mode the request is kept and None returned."""
    try:
        return await call
    except DryRunRequest as exc:
        if requests is None:
            raise
        requests.append(exc.request)
        return None


def create_flow(
    context: CommandContext,
    name: str,
    json_path: Path | None,
    *,
    categories: Sequence[str] = (),
    endpoint_uri: str | None = None,
    clone: str | None = None,
    publish: bool = False,
) -> Saved:
    """`waba flow create`: check, create, upload the JSON, then publish when asked and valid."""
    name = name.strip()
    if not name or len(name) > NAME_LEN:
        raise ValidationError("NAME", f"must be 1 to {NAME_LEN} characters")
    try:
        chosen = check_categories(categories)
    except ValueError as exc:
        raise ValidationError("--category", str(exc)) from None
    if endpoint_uri is not None and not endpoint_uri.startswith("https://"):
        raise ValidationError("--endpoint-uri", "must be an https:// URL")
    if json_path is None and clone is None:
        raise UsageError("give the flow's JSON (--json FILE) or a flow to copy (--clone FLOW)")
    text, check = read_flow_json(json_path, endpoint_uri=endpoint_uri) if json_path else (None, None)
    account = context.account
    account_id = account.id
    assert account_id is not None
    clone_id: str | None = None
    with context.db.session() as session:
        if find_flow(session, account, name) is not None:
            raise UsageError(f"flow {name!r} already exists in account {account.name}", "pick another name")
        if clone is not None:
            source = find_flow(session, account, clone)
            clone_id = source.flow_id if source is not None else (clone if clone.isdigit() else None)
            if clone_id is None:
                raise UsageError(f"no flow {clone!r} to clone", "see `waba flow list`")
    dry: list[dict[str, Any]] | None = [] if context.dry_run else None

    async def go(api: GraphAPI) -> Saved:
        created = await _step(
            dry,
            api.create_flow(
                account.waba_id, name=name, categories=chosen, clone_flow_id=clone_id, endpoint_uri=endpoint_uri
            ),
        )
        flow_id = str(created["id"]) if created else "NEW_FLOW_ID"
        if created is not None:
            with context.db.transaction() as session:
                row = Flow(
                    account_id=account_id, flow_id=flow_id, name=name, categories=chosen, endpoint_uri=endpoint_uri
                )
                session.add(row)
        saved = await _upload(context, api, flow_id, text, check, dry) if text is not None else Saved(None)
        if publish and not saved.validation_errors and await _step(dry, api.publish_flow(flow_id)) is not None:
            saved.published = True
        if created is not None:
            await _refresh(context, api, flow_id)
        saved.dry_run_requests = dry or []
        saved.flow = _row(context, flow_id) if created is not None else None
        return saved

    return with_api(context, go)


def upload_flow(context: CommandContext, ref: str, json_path: Path) -> Saved:
    """`waba flow upload`: a new Flow JSON for a draft (a published flow is refused: clone it)."""
    account = context.account
    with context.db.session() as session:
        flow = require_flow(session, account, ref)
        flow_id, status, endpoint_uri = str(flow.flow_id), flow.status, flow.endpoint_uri
    if status != "DRAFT":
        raise UsageError(
            f"flow {ref!r} is {status}: only a draft's JSON can change",
            f"make a new version: `waba flow create NAME --clone {ref} --json {json_path}`",
        )
    # the endpoint may have been set at Meta without waba knowing: Meta checks it when publishing
    text, check = read_flow_json(json_path, endpoint_uri=endpoint_uri, require_endpoint=endpoint_uri is not None)
    dry: list[dict[str, Any]] | None = [] if context.dry_run else None

    async def go(api: GraphAPI) -> Saved:
        saved = await _upload(context, api, flow_id, text, check, dry)
        saved.dry_run_requests = dry or []
        saved.flow = _row(context, flow_id)
        return saved

    return with_api(context, go)


async def _upload(
    context: CommandContext,
    api: GraphAPI,
    flow_id: str,
    text: str,
    check: FlowJsonCheck | None,
    dry: list[dict[str, Any]] | None,
) -> Saved:
    """Upload the JSON as the flow's ``FLOW_JSON`` asset; keep it, its first screen and Meta's verdict."""
    answer = await _step(dry, api.upload_flow_json(flow_id, text))
    if answer is None:
        return Saved(None)
    errors = answer.get("validation_errors")
    validation_errors = [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []
    with context.db.transaction() as session:
        row = find_flow(session, context.account, flow_id)
        if row is not None:
            row.flow_json = text
            row.validation_errors = validation_errors
            if check is not None:
                row.first_screen = check.first_screen
                row.json_version = check.version
                row.data_api_version = check.data_api_version
            row.updated_at = utcnow()
            session.add(row)
    return Saved(None, validation_errors)


async def _refresh(context: CommandContext, api: GraphAPI, flow_id: str) -> None:
    """Read the flow back from Meta into its row (status, versions, health)."""
    meta = await api.get_flow(flow_id)
    with context.db.transaction() as session:
        row = find_flow(session, context.account, flow_id)
        if row is not None and apply_meta(row, meta):
            session.add(row)


def _row(context: CommandContext, flow_id: str) -> Flow | None:
    with context.db.session() as session:
        row = find_flow(session, context.account, flow_id)
        if row is not None:
            session.expunge(row)
        return row


def _change(context: CommandContext, ref: str, verb: str, allowed: Sequence[str], hint: str) -> Flow:
    """Publish or deprecate: refused locally when the flow's status does not allow it."""
    account = context.account
    with context.db.session() as session:
        flow = require_flow(session, account, ref)
        flow_id, status = str(flow.flow_id), flow.status
    if status not in allowed:
        raise UsageError(f"flow {ref!r} is {status} and cannot be {verb}ed", hint)

    async def go(api: GraphAPI) -> Flow:
        await (api.publish_flow(flow_id) if verb == "publish" else api.deprecate_flow(flow_id))
        await _refresh(context, api, flow_id)
        row = _row(context, flow_id)
        assert row is not None
        return row

    return with_api(context, go)


def publish_flow(context: CommandContext, ref: str) -> Flow:
    """`waba flow publish`: a draft becomes immutable and sendable."""
    return _change(context, ref, "publish", ("DRAFT",), "only drafts are published; see `waba flow show`")


def deprecate_flow(context: CommandContext, ref: str) -> Flow:
    """`waba flow deprecate`: a published flow is retired (it can no longer be sent or opened)."""
    return _change(
        context, ref, "deprecat", ("PUBLISHED", "THROTTLED", "BLOCKED"), "only published flows can be deprecated"
    )


def delete_flow(context: CommandContext, ref: str) -> Flow:
    """`waba flow delete`: a draft is deleted at Meta; its row stays (as DELETED) for its responses."""
    account = context.account
    with context.db.session() as session:
        flow = require_flow(session, account, ref)
        flow_id, status = str(flow.flow_id), flow.status
    if status != "DRAFT":
        raise UsageError(
            f"flow {ref!r} is {status}: only drafts can be deleted", f"`waba flow deprecate {ref}` retires it"
        )

    async def go(api: GraphAPI) -> Flow:
        await api.delete_flow(flow_id)
        with context.db.transaction() as session:
            row = find_flow(session, account, flow_id)
            assert row is not None
            row.status, row.updated_at = "DELETED", utcnow()
            session.add(row)
        gone = _row(context, flow_id)
        assert gone is not None
        return gone

    return with_api(context, go)
