"""Media (§7): uploading a file for a number, reading its URL and deleting it. The download URL
points at the sandbox itself (``/_sandbox/media/{id}``)."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from waba_cli.sandbox.auth import MESSAGING, require_scope
from waba_cli.sandbox.errors import GraphFailure, missing, not_found
from waba_cli.sandbox.params import multipart
from waba_cli.sandbox.state import Media

if TYPE_CHECKING:
    from waba_cli.sandbox.runtime import Call, Runtime

MEDIA_LIMITS = {  # §7: MIME type -> largest accepted size in bytes
    **dict.fromkeys(("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"), 16 << 20),
    **dict.fromkeys(
        (
            "text/plain",
            "application/pdf",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        100 << 20,
    ),
    "image/jpeg": 5 << 20,
    "image/png": 5 << 20,
    "image/webp": 500 << 10,
    "video/mp4": 16 << 20,
    "video/3gpp": 16 << 20,
}


async def upload_media(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MESSAGING)
    parts = multipart(call.request.content_type, call.request.body)
    if call.params.get("messaging_product") != "whatsapp":
        raise missing("messaging_product")
    if "file" not in parts:
        raise missing("file")
    filename, part_type, data = parts["file"]
    mime = str(call.params.get("type") or part_type or "")
    limit = MEDIA_LIMITS.get(mime)
    if limit is None:
        raise GraphFailure(131053, f"Media type {mime or 'unknown'} is not supported.")
    if len(data) > limit:
        raise GraphFailure(131053, f"The file is {len(data)} bytes; {mime} files may be at most {limit} bytes.")
    media = Media(
        id=sandbox.state.new_id(16),
        phone_number_id=call.obj.id,
        mime_type=mime,
        sha256=hashlib.sha256(data).hexdigest(),
        file_size=len(data),
        data=data,
        filename=filename,
    )
    sandbox.state.add(media)
    return {"id": media.id}


async def get_media(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MESSAGING)
    media: Media = call.obj
    _media_of_number(call, media)
    return {
        "messaging_product": "whatsapp",
        "url": f"{call.request.origin}/_sandbox/media/{media.id}",
        "mime_type": media.mime_type,
        "sha256": media.sha256,
        "file_size": media.file_size,
        "id": media.id,
    }


async def delete_media(sandbox: Runtime, call: Call) -> dict[str, Any]:
    require_scope(call, MESSAGING)
    _media_of_number(call, call.obj)
    del sandbox.state.media[call.obj.id]
    return {"success": True}


def _media_of_number(call: Call, media: Media) -> None:
    wanted = call.params.get("phone_number_id")
    if wanted is not None and str(wanted) != media.phone_number_id:
        raise not_found(media.id, call.request.method)
