"""The business profile of a number (reference §4.6): every value checked against Meta's limits
before any request; the picture is read with Pillow and goes through the resumable upload API on
the app, then its handle is set on the profile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from waba_cli.db.models.accounts import PhoneNumber
from waba_cli.domain import profile as profile_rules
from waba_cli.errors import DryRunRequest, UsageError, ValidationError
from waba_cli.services.numbers.store import about, number_for

if TYPE_CHECKING:
    from waba_cli.graph.api import GraphAPI
    from waba_cli.services.context import CommandContext

T = TypeVar("T")


def show_profile(ctx: CommandContext, ref: str) -> tuple[PhoneNumber, dict[str, Any]]:
    """`waba number profile show`: the business profile as Meta has it."""
    number = number_for(ctx, ref)
    with about(number):
        profile = ctx.run_graph(ctx.account, lambda api: api.get_business_profile(number.phone_number_id))
    return number, dict(profile)


@dataclass
class ProfileChange:
    """What `number profile set` was asked to change (None: leave as it is)."""

    about: str | None = None
    address: str | None = None
    description: str | None = None
    email: str | None = None
    vertical: str | None = None
    websites: list[str] | None = None
    picture: Path | None = None


@dataclass
class Picture:
    path: Path
    mime: str
    content: bytes = field(repr=False)
    width: int
    height: int


@dataclass
class ProfileResult:
    number: PhoneNumber
    changed: dict[str, Any]
    dry_run: list[dict[str, Any]] = field(default_factory=list)  # the requests it would send
    notes: list[str] = field(default_factory=list)


def check_profile(change: ProfileChange) -> tuple[dict[str, Any], Picture | None, list[str]]:
    """The profile fields to send and the picture, each within Meta's limits (exit 2 otherwise)."""
    fields: dict[str, Any] = {}
    checks: list[tuple[str, Any, Callable[[Any], Any]]] = [
        ("about", change.about, profile_rules.about),
        ("address", change.address, profile_rules.address),
        ("description", change.description, profile_rules.description),
        ("email", change.email, profile_rules.email),
        ("vertical", change.vertical, profile_rules.vertical),
        ("websites", change.websites, profile_rules.websites),
    ]
    for name, value, check in checks:
        if value is None:
            continue
        try:
            fields[name] = check(value)
        except ValueError as exc:
            flag = "--website" if name == "websites" else f"--{name}"
            raise ValidationError(flag, str(exc)) from None
    notes: list[str] = []
    picture = read_picture(change.picture, notes) if change.picture is not None else None
    if not fields and picture is None:
        raise UsageError(
            "nothing to change", "give --about, --address, --description, --email, --vertical, --website or --picture"
        )
    return fields, picture, notes


def read_picture(path: Path, notes: list[str]) -> Picture:
    """Read and check a profile picture with Pillow: JPEG or PNG, at most 5 MB, at least 192 x 192."""
    if not path.is_file():
        raise ValidationError("--picture", f"{path} is not a file")
    size = path.stat().st_size
    if size > profile_rules.PICTURE_MAX_BYTES:  # before reading it: a large file is refused unread
        raise ValidationError("--picture", f"{path.name} is {size / 1024 / 1024:.1f} MB; Meta takes at most 5 MB")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image_format, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError("--picture", f"{path.name} is not a readable JPEG or PNG image ({exc})") from None
    try:
        mime = profile_rules.picture(image_format, size, width, height)
    except ValueError as exc:
        raise ValidationError("--picture", f"{path.name} {exc}") from None
    if width != height:
        notes.append(f"{path.name} is {width} x {height}: WhatsApp crops the picture to a centred circle")
    return Picture(path, mime, path.read_bytes(), width, height)


def set_profile(ctx: CommandContext, ref: str, change: ProfileChange) -> ProfileResult:
    """`waba number profile set`: check every value, upload the picture (resumable upload on the app,
    §4.6), then change the given fields; with --dry-run, the requests it would send."""
    fields, picture, notes = check_profile(change)
    account = ctx.account
    number = number_for(ctx, ref)
    shown: list[dict[str, Any]] = []

    async def step(request: Awaitable[T], placeholder: T) -> T:
        # in a dry run each request is shown instead of sent, and the next one uses a placeholder
        try:
            return await request
        except DryRunRequest as exc:
            shown.append(exc.request)
            return placeholder

    async def call(api: GraphAPI) -> dict[str, Any]:
        body = dict(fields)
        if picture is not None:
            session = await step(
                api.create_upload_session(
                    account.app_id,
                    file_name=picture.path.name,
                    file_length=len(picture.content),
                    file_type=picture.mime,
                ),
                {"id": "upload:<session id>"},
            )
            uploaded = await step(api.upload_file(str(session["id"]), picture.content), {"h": "<picture handle>"})
            body["profile_picture_handle"] = uploaded["h"]
        await step(api.update_business_profile(number.phone_number_id, body), {"success": True})
        return body

    with about(number):
        sent = ctx.run_graph(account, call)
    if picture is not None:
        sent["profile_picture_handle"] = f"<{picture.path.name}, {picture.width} x {picture.height}>"
    return ProfileResult(number, sent, shown, notes)
