"""Creating templates: ``template create`` (a local draft, sent for review with ``--submit``),
``template submit``, and the creation ``template apply`` shares: media header examples go up
through the resumable upload API first, then the create request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waba_cli.db.models.templates import MessageTemplate
from waba_cli.domain.templates.forms import TemplateInput, template_id_of
from waba_cli.domain.templates.rules import FILE_HANDLE_PREFIX, UPLOAD_TYPES
from waba_cli.errors import OperationError, UsageError, ValidationError
from waba_cli.services.templates.files import header_handles, require_valid
from waba_cli.services.templates.store import find_template, record_submitted, request_of, save_draft

if TYPE_CHECKING:
    from waba_cli.db.engine import Database
    from waba_cli.db.models.accounts import Account
    from waba_cli.graph.api import GraphAPI
    from waba_cli.services.context import CommandContext


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
    handles = header_handles(body)
    for index, handle in enumerate(handles):
        if isinstance(handle, str) and handle.startswith(FILE_HANDLE_PREFIX):
            path = Path(handle[len(FILE_HANDLE_PREFIX) :])
            if api.client.dry_run:
                handles[index] = f"<handle of the upload of {path.name}>"
            else:
                handles[index] = await upload_header_example(api, account.app_id, path)
    return body


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


def create_template(ctx: CommandContext, template: TemplateInput, *, submit: bool) -> MessageTemplate | None:
    """`waba template create`: store ``template`` as a local draft; with ``submit``, send it for review.

    In a dry run nothing is stored: with ``submit`` the create request is shown instead of sent
    (``DryRunRequest``), and None is returned.
    """
    account = ctx.account
    if ctx.dry_run:
        if submit:
            ctx.run_graph(account, lambda api: create_at_meta(api, account, template.request))
        return None
    with ctx.db.transaction() as session:
        row = save_draft(session, account, template)
    if submit:
        row = ctx.run_graph(account, lambda api: _submit_draft(ctx.db, api, account, row))
    return row


def submit_template(ctx: CommandContext, name: str, language: str | None = None) -> MessageTemplate:
    """`waba template submit`: send a stored draft for review."""
    account = ctx.account
    with ctx.db.session() as session:
        row = find_template(session, account, name, language)
    return ctx.run_graph(account, lambda api: _submit_draft(ctx.db, api, account, row))


async def _submit_draft(db: Database, api: GraphAPI, account: Account, row: MessageTemplate) -> MessageTemplate:
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
