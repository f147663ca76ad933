"""Composing one message for `waba send ...`: the command's options become a request body.

A command's options are checked as soon as they are read (``text_message``, ``template_message``
...: each returns a ``Composer``); once the sender, the recipient and the session are known, the
composer gives a ``Draft``, whose ``compose(media_id)`` is the complete request body, built by
``waba_cli.domain.payloads``. A local media file is checked against Meta's limits here and
uploaded by ``send`` before the body is composed with its media id. Templates and flows are read
from the local tables (a template must be sendable: ``rules.template_for_send``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from waba_cli.db.models.accounts import Account, PhoneNumber
from waba_cli.db.models.flows import Flow
from waba_cli.domain import payloads
from waba_cli.domain.documents import loads_json, loads_toml
from waba_cli.errors import UsageError, ValidationError
from waba_cli.files import read_text
from waba_cli.services.flows.tokens import new_token
from waba_cli.services.messaging import rules

# -- local media files -------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalMedia:
    """A local file checked against Meta's limits for its kind, ready to upload."""

    path: Path
    mime: str
    size: int


def check_local_media(kind: str, path: Path) -> LocalMedia:
    """MIME type (from the extension) and size must be what Meta accepts for ``kind`` (§7)."""
    if not path.is_file():
        raise ValidationError(f"--{kind}", f"{path} is not a file")
    mime = payloads.media_mime(kind, path.name)
    size = path.stat().st_size
    animated = _sticker_is_animated(path) if kind == "sticker" and size else False
    payloads.check_media_size(kind, path.name, size, animated=animated)
    return LocalMedia(path, mime, size)


def _sticker_is_animated(path: Path) -> bool:
    """Whether a sticker file is animated; it must be a readable WebP image."""
    try:
        animated = webp_is_animated(path)
    except OSError as exc:
        raise ValidationError("--sticker", f"cannot read {path.name}: {exc.strerror or exc}") from None
    if animated is None:
        raise ValidationError("--sticker", f"{path.name} is not a WebP image (no RIFF/WEBP header)")
    return animated


_WEBP_ANIMATION_FLAG = 0x02  # in the first byte of a VP8X chunk
_WEBP_CHUNKS_SCANNED = 64  # animation is declared up front; a well-formed file says so in its first chunks


def webp_is_animated(path: Path) -> bool | None:
    """Whether the WebP file at ``path`` is animated (None: not a WebP file).

    A WebP file is ``RIFF <size> WEBP`` and then chunks (FourCC, little-endian size, data padded
    to an even length). It is animated when its VP8X chunk has the animation flag set, or when it
    holds an ANIM chunk.
    """
    with path.open("rb") as handle:
        header = handle.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WEBP":
            return None
        for _ in range(_WEBP_CHUNKS_SCANNED):
            chunk = handle.read(8)
            if len(chunk) < 8:
                return False
            fourcc, length = chunk[:4], int.from_bytes(chunk[4:8], "little")
            skip = length + (length & 1)
            if fourcc == b"ANIM":
                return True
            if fourcc == b"VP8X" and length:
                flags = handle.read(1)
                if flags and flags[0] & _WEBP_ANIMATION_FLAG:
                    return True
                skip -= len(flags)
            handle.seek(skip, 1)
    return False


# -- composing one message ---------------------------------------------------------------------


@dataclass(frozen=True)
class Context:
    """Who sends to whom, given to a composer."""

    session: Session
    account: Account
    number: PhoneNumber
    to: str
    reply_to: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True)
class Draft:
    """A composed message: ``compose(media_id)`` gives the request body once a local file is uploaded."""

    type: str
    compose: Callable[[str | None], dict[str, Any]]
    free_form: bool = True  # everything but templates needs the 24-hour window
    text: str | None = None
    template_name: str | None = None
    local_media: LocalMedia | None = None
    media_kind: str | None = None
    flow_token: tuple[str, str] | None = None  # (the flow, the token) a flow message or FLOW button carries


Composer = Callable[[Context], Draft]


def _envelope(ctx: Context, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    return payloads.envelope(ctx.to, kind, content, reply_to=ctx.reply_to, callback_data=ctx.callback_data)


def media_source(kind: str, value: str, filename: str | None = None) -> payloads.MediaRef | LocalMedia:
    """A URL (sent as ``link``) or a local file (checked against §7's MIME types and sizes, to upload)."""
    if value.startswith(("https://", "http://")):
        return payloads.MediaRef(kind, link=payloads.media(kind, link=value)["link"], filename=filename)
    return check_local_media(kind, Path(value).expanduser())


def text_message(body: str, *, preview_url: bool = False) -> Composer:
    content = payloads.text(body, preview_url=preview_url)

    def compose(ctx: Context) -> Draft:
        return Draft("text", lambda _: _envelope(ctx, "text", content), text=body)

    return compose


def interactive_message(
    *,
    body: str | None,
    buttons: Sequence[str] = (),
    list_file: Path | None = None,
    cta_url: str | None = None,
    cta_text: str | None = None,
    header: str | None = None,
    footer: str | None = None,
) -> Composer:
    """Reply buttons, a list (from a JSON or TOML file) or a call-to-action URL button (§2.8)."""
    options = (("--button", buttons), ("--list-file", list_file), ("--cta-url", cta_url))
    chosen = [name for name, given in options if given]
    if len(chosen) != 1:
        raise UsageError(
            "give exactly one of --button ID:TITLE (1-3), --list-file F or --cta-url URL"
            + (f" (got {', '.join(chosen)})" if chosen else "")
        )
    if list_file is not None:
        spec = read_list_file(list_file)
        if header is not None:
            spec["header"] = header
        if footer is not None:
            spec["footer"] = footer
        content = payloads.list_message(spec, body=body, source=str(list_file))
    elif body is None:
        raise ValidationError("--body", "is required for buttons and CTA URL messages")
    elif cta_url is not None:
        if cta_text is None:
            raise ValidationError("--cta-text", "is required with --cta-url (the button's label, up to 20 characters)")
        content = payloads.cta_url(body, cta_text, cta_url, header=header, footer=footer)
    else:
        content = payloads.reply_buttons(body, list(buttons), header=header, footer=footer)
    text = content["body"]["text"]

    def compose(ctx: Context) -> Draft:
        return Draft("interactive", lambda _: _envelope(ctx, "interactive", content), text=text)

    return compose


def read_list_file(path: Path) -> dict[str, Any]:
    """A list message's file: JSON or TOML (by extension) with button, sections and optional texts."""
    try:
        raw = read_text(path)
    except OSError as exc:
        raise ValidationError("--list-file", f"cannot read {path}: {exc.strerror}") from None
    try:
        if path.suffix.lower() == ".toml":
            data: Any = loads_toml(raw, str(path))
        else:
            data = loads_json(raw, str(path))
    except ValueError as exc:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise ValidationError("--list-file", f"{path} is not valid {kind}: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError("--list-file", f"{path} must hold a table with button and sections")
    return data


def media_message(kind: str, source: str, *, caption: str | None = None, filename: str | None = None) -> Composer:
    """Image, document, video, audio or sticker from a URL or a local file (uploaded first)."""
    if kind not in payloads.MEDIA_KINDS:
        raise ValidationError("media", f"{kind!r} is not one of {', '.join(payloads.MEDIA_KINDS)}")
    media = media_source(kind, source, filename)
    if isinstance(media, LocalMedia):
        name = filename or media.path.name
        payloads.media(kind, media_id="0", caption=caption, filename=name)  # checks the caption now

        def body_of(media_id: str | None) -> dict[str, Any]:
            return payloads.media(kind, media_id=media_id, caption=caption, filename=name)

        local: LocalMedia | None = media
    else:
        content = payloads.media(kind, link=media.link, caption=caption, filename=filename)
        local = None

        def body_of(media_id: str | None) -> dict[str, Any]:
            return content

    def compose(ctx: Context) -> Draft:
        return Draft(
            kind,
            lambda media_id: _envelope(ctx, kind, body_of(media_id)),
            text=caption or filename or (source if local is None else local.path.name),
            local_media=local,
            media_kind=kind,
        )

    return compose


def flow_message(
    flow: str,
    *,
    token: str,
    cta: str,
    body: str,
    screen: str | None = None,
    data: dict[str, Any] | None = None,
    header: str | None = None,
    footer: str | None = None,
    draft: bool = False,
    action: str = "navigate",
) -> Composer:
    """A Flow (§2.8): ``flow_id`` when FLOW is numeric, else ``flow_name``; the first screen from
    ``screen`` or the local ``flow`` table."""

    def compose(ctx: Context) -> Draft:
        column = Flow.flow_id if flow.isdigit() else Flow.name
        local = ctx.session.exec(select(Flow).where(Flow.account_id == ctx.account.id, column == flow)).first()
        status = (local.status if local else "").upper()
        if status in ("BLOCKED", "DEPRECATED"):
            raise UsageError(f"flow {flow!r} is {status} and cannot be sent", "see `waba flow list`")
        if status == "DRAFT" and not draft:
            raise UsageError(
                f"flow {flow!r} is a draft", "add --draft to send the draft for testing, or `waba flow publish`"
            )
        content = payloads.flow(
            flow,
            token,
            cta=cta,
            body=body,
            screen=screen or (local.first_screen if local else None),
            data=data,
            header=header,
            footer=footer,
            draft=draft,
            action=action,
        )
        return Draft(
            "interactive", lambda _: _envelope(ctx, "interactive", content), text=body, flow_token=(flow, token)
        )

    return compose


def template_message(
    name: str,
    params: Sequence[str] = (),
    *,
    language: str | None = None,
    header_media: tuple[str, str] | None = None,
    url_suffixes: Sequence[str] = (),
    coupon_code: str | None = None,
    button_payloads: Sequence[str] = (),
    flow_token: str | None = None,
) -> Composer:
    """A template message; ``header_media`` is (kind, PATH|URL). A FLOW button gets ``flow_token``,
    else a new token, recorded like a flow message's."""
    source = media_source(*header_media) if header_media else None

    def compose(ctx: Context) -> Draft:
        template = rules.template_for_send(ctx.session, ctx.account, name, language)
        local = source if isinstance(source, LocalMedia) else None
        flow = payloads.flow_button_flow(template)
        if flow is None and flow_token is not None:
            raise ValidationError("--flow-token", f"template {template.name!r} has no FLOW button")
        token = (flow_token or new_token()) if flow is not None else None

        def body_of(media_id: str | None) -> dict[str, Any]:
            media = source if isinstance(source, payloads.MediaRef) else None
            if local is not None and header_media is not None:
                media = payloads.MediaRef(header_media[0], media_id=media_id, filename=local.path.name)
            return payloads.template_body(
                template,
                ctx.to,
                params,
                header_media=media,
                url_suffixes=url_suffixes,
                coupon_code=coupon_code,
                button_payloads=button_payloads,
                reply_to=ctx.reply_to,
                callback_data=ctx.callback_data,
                flow_token=token,
            )

        return Draft(
            "template",
            body_of,
            free_form=False,
            text=payloads.template_text(template, params, url_suffixes),
            template_name=template.name,
            local_media=local,
            media_kind=header_media[0] if header_media else None,
            flow_token=(flow, token) if flow is not None and token is not None else None,
        )

    return compose
