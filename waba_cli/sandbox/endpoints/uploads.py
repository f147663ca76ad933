"""Resumable uploads (§3.3): an app's upload session, its bytes (``file_offset``), and the handle
template headers and profile pictures refer to."""

from __future__ import annotations

import base64
import secrets
from typing import TYPE_CHECKING, Any

from waba_cli.sandbox.errors import bad_param, missing
from waba_cli.sandbox.state import UploadSession, wamid

if TYPE_CHECKING:
    from waba_cli.sandbox.runtime import Call, Runtime

UPLOAD_TYPES = ("application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4")


async def start_upload(sandbox: Runtime, call: Call) -> dict[str, Any]:
    params = call.params
    for name in ("file_name", "file_length", "file_type"):
        if not params.get(name):
            raise missing(name)
    if params["file_type"] not in UPLOAD_TYPES:
        raise bad_param(f"Param file_type must be one of {', '.join(UPLOAD_TYPES)}.")
    try:
        length = int(params["file_length"])
    except ValueError:
        raise bad_param("Param file_length must be an integer.") from None
    session_id = "upload:" + wamid(secrets.token_hex(4))[6:30].replace("=", "")
    upload = UploadSession(
        id=session_id, file_name=str(params["file_name"]), file_length=length, file_type=str(params["file_type"])
    )
    sandbox.state.add(upload)
    return {"id": f"{session_id}?sig=ARZ{secrets.token_hex(12)}"}


async def upload_bytes(sandbox: Runtime, call: Call) -> dict[str, Any]:
    upload: UploadSession = call.obj
    raw_offset = call.request.headers.get("file_offset", "0")
    try:
        offset = int(raw_offset)
    except ValueError:
        raise bad_param("Header file_offset must be an integer.") from None
    if offset != len(upload.data):
        raise bad_param(f"file_offset {offset} does not match the bytes received so far ({len(upload.data)}).")
    upload.data += call.request.body
    if len(upload.data) > upload.file_length:
        raise bad_param(f"More bytes than the announced file_length ({upload.file_length}).")
    if len(upload.data) < upload.file_length:
        return {"id": upload.id, "file_offset": len(upload.data)}
    if upload.handle is None:
        encoded = base64.b64encode(upload.file_type.encode()).decode()
        upload.handle = f"4::{encoded}:ARb{secrets.token_urlsafe(24)}"
    return {"h": upload.handle}


async def get_upload(sandbox: Runtime, call: Call) -> dict[str, Any]:
    upload: UploadSession = call.obj
    return {"id": upload.id, "file_offset": len(upload.data)}
