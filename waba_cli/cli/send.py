"""`waba send ...`: one message of each type (text, template, interactive, flow, media)."""

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from waba_cli.cli import send_bulk
from waba_cli.cli.common import command, command_context, group, out, show_dry_run

if TYPE_CHECKING:
    from waba_cli.services.messaging.send import Sent, Target

app = group(
    "send",
    "Send messages: text, templates, buttons and lists, flows, media.",
    examples=(
        'waba send text --to +4915112345678 --body "Your order shipped"',
        "waba send template order_update --to +4915112345678 --param Ana",
        "waba send bulk --csv customers.csv --template order_update --dry-run",
    ),
)

SEND_SHARED = ("json", "account", "dry_run", "no_input")

To = Annotated[
    str,
    typer.Option(
        "--to", metavar="PHONE", help="Recipient, any notation of digits (stored as E.164); letters are refused."
    ),
]
From = Annotated[
    str | None,
    typer.Option("--from", metavar="NUM", help="Sending number: phone-number id or E.164 (default: the account's)."),
]
ReplyTo = Annotated[
    str | None, typer.Option("--reply-to", metavar="WAMID", help="Quote this message (a contextual reply).")
]
Force = Annotated[
    bool, typer.Option("--force", help="Send even outside the contact's 24-hour customer-service window.")
]
Header = Annotated[str | None, typer.Option("--header", metavar="TEXT", help="Header text (up to 60 characters).")]
Footer = Annotated[str | None, typer.Option("--footer", metavar="TEXT", help="Footer text (up to 60 characters).")]


def _target(to: str, from_number: str | None, reply_to: str | None, *, force: bool = False) -> "Target":
    from waba_cli.services.messaging.send import Target

    return Target(to=to, from_number=from_number, reply_to=reply_to, force=force)


def _show(send: Callable[[], "Sent"]) -> None:
    """Send through the service and show the outcome (or the request, with --dry-run)."""
    from waba_cli.errors import DryRunRequest

    o = out()
    try:
        sent = send()
    except DryRunRequest as exc:
        show_dry_run(exc.request)
        return
    if o.json_mode:
        o.json(sent.as_json())
        return
    o.success(f"{sent.status}: {sent.wamid} to {sent.to} from {sent.phone_number_id} ({sent.account})")


@command(app, "text", shared=SEND_SHARED)
def text(
    to: To,
    body: Annotated[str, typer.Option("--body", metavar="TEXT", help="The message, up to 4096 characters.")],
    preview_url: Annotated[bool, typer.Option("--preview-url", help="Show a preview of the first link.")] = False,
    from_number: From = None,
    reply_to: ReplyTo = None,
    force: Force = False,
) -> None:
    """Send a text message to a contact inside the 24-hour customer-service window.

    Outside the window (the contact has not written to the sending number in the last 24 hours)
    only templates can be sent: the message is refused unless --force.

    \b
    Example:
        waba send text --to +16505550123 --body "Your order shipped" --json
    """
    from waba_cli.services.messaging.send import send_text

    o, target = out(), _target(to, from_number, reply_to, force=force)
    _show(lambda: send_text(command_context(), target, body, preview_url=preview_url, warn=o.warn, note=o.note))


@command(app, "template", shared=SEND_SHARED)
def template(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Template name (synced or submitted).")],
    to: To,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param", "-p", metavar="V", help="A variable's value, in order; name=value for named templates."
        ),
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", "-l", metavar="L", help="Language (default: the first approved).")
    ] = None,
    header_image: Annotated[
        str | None, typer.Option("--header-image", metavar="PATH|URL", help="Image for an IMAGE header.")
    ] = None,
    header_document: Annotated[
        str | None, typer.Option("--header-document", metavar="PATH|URL", help="Document for a DOCUMENT header.")
    ] = None,
    header_video: Annotated[
        str | None, typer.Option("--header-video", metavar="PATH|URL", help="Video for a VIDEO header.")
    ] = None,
    button_url_suffix: Annotated[
        list[str] | None,
        typer.Option("--button-url-suffix", metavar="S", help="Suffix for each URL button with a variable, in order."),
    ] = None,
    coupon_code: Annotated[
        str | None, typer.Option("--coupon-code", metavar="CODE", help="Code of the copy-code button.")
    ] = None,
    button_payload: Annotated[
        list[str] | None,
        typer.Option("--button-payload", metavar="P", help="Payload of each quick-reply button, in order."),
    ] = None,
    flow_token: Annotated[
        str | None,
        typer.Option("--flow-token", metavar="TOKEN", help="flow_token of the FLOW button (default: a new one)."),
    ] = None,
    from_number: From = None,
    reply_to: ReplyTo = None,
) -> None:
    """Send an approved template (APPROVED, FLAGGED or REINSTATED), inside or outside the window.

    The template must be known locally (`waba template sync`). Values are counted against its
    variables before anything is sent: --param V in order for positional templates ({{1}}, {{2}}),
    --param name=value for named ones. Header variables come first, then the body's; a URL
    button's suffix follows them unless given with --button-url-suffix. Media headers take a local
    file (uploaded first) or an https URL. A FLOW button carries --flow-token (else a new token),
    recorded so that `waba flow responses` ties the completion to this send.

    \b
    Example:
        waba send template order_update --to +16505550123 --param Ana --param 8812 --param Friday --param 8812
        waba send template promo --to +16505550123 --header-image banner.png --coupon-code SAVE20
        waba send template book_visit --to +16505550123 --flow-token visit-8812
    """
    from waba_cli.errors import UsageError
    from waba_cli.services.messaging.send import send_template

    headers = [
        (k, v) for k, v in (("image", header_image), ("document", header_document), ("video", header_video)) if v
    ]
    if len(headers) > 1:
        raise UsageError("give one of --header-image, --header-document or --header-video")
    o, target = out(), _target(to, from_number, reply_to)
    _show(
        lambda: send_template(
            command_context(),
            target,
            name,
            param or [],
            language=language,
            header_media=headers[0] if headers else None,
            url_suffixes=button_url_suffix or [],
            coupon_code=coupon_code,
            button_payloads=button_payload or [],
            flow_token=flow_token,
            warn=o.warn,
            note=o.note,
        )
    )


@command(app, "interactive", shared=SEND_SHARED)
def interactive(
    to: To,
    button: Annotated[
        list[str] | None, typer.Option("--button", "-b", metavar="ID:TITLE", help="A reply button (1 to 3).")
    ] = None,
    list_file: Annotated[
        Path | None,
        typer.Option("--list-file", metavar="F", help="A list message: JSON or TOML with button and sections."),
    ] = None,
    cta_url: Annotated[
        str | None, typer.Option("--cta-url", metavar="URL", help="A call-to-action URL button.")
    ] = None,
    cta_text: Annotated[
        str | None, typer.Option("--cta-text", metavar="TEXT", help="The CTA button's label (20 characters).")
    ] = None,
    body: Annotated[str | None, typer.Option("--body", metavar="TEXT", help="The message text.")] = None,
    header: Header = None,
    footer: Footer = None,
    from_number: From = None,
    reply_to: ReplyTo = None,
    force: Force = False,
) -> None:
    """Send reply buttons, a list or a call-to-action URL button.

    Reply buttons: 1 to 3 --button ID:TITLE (id up to 256, title up to 20 characters). A list:
    --list-file with `button` (its label), `sections` (each with `title` and `rows` of `id`,
    `title`, `description`; 10 rows in all) and optionally `body`, `header`, `footer`. A CTA:
    --cta-url URL --cta-text LABEL. Free-form: only inside the 24-hour window unless --force.

    \b
    Example:
        waba send interactive --to +16505550123 --body "Change your booking?" --button change:Change --button keep:Keep
        waba send interactive --to +16505550123 --list-file shipping.toml
    """
    from waba_cli.services.messaging.send import send_interactive

    o, target = out(), _target(to, from_number, reply_to, force=force)
    _show(
        lambda: send_interactive(
            command_context(),
            target,
            body=body,
            buttons=button or [],
            list_file=list_file,
            cta_url=cta_url,
            cta_text=cta_text,
            header=header,
            footer=footer,
            warn=o.warn,
            note=o.note,
        )
    )


def _json_object(value: str | None) -> dict[str, Any] | None:
    from waba_cli.domain.documents import loads_json
    from waba_cli.errors import ValidationError

    if value is None:
        return None
    try:
        data = loads_json(value, "--data")
    except ValueError as exc:
        raise ValidationError("--data", f"is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError("--data", "must be a JSON object")
    return data


@command(app, "flow", shared=SEND_SHARED)
def flow(
    flow_ref: Annotated[str, typer.Argument(metavar="FLOW", help="Flow id (numeric) or name.")],
    to: To,
    token: Annotated[
        str | None,
        typer.Option("--token", metavar="TOKEN", help="Your flow_token, echoed in the answer (default: a new one)."),
    ] = None,
    cta: Annotated[str, typer.Option("--cta", metavar="TEXT", help="Button label (up to 20 characters).")] = "Open",
    screen: Annotated[
        str | None, typer.Option("--screen", metavar="ID", help="First screen (default: known from `waba flow sync`).")
    ] = None,
    body: Annotated[
        str, typer.Option("--body", metavar="TEXT", help="The message text.")
    ] = "Tap the button below to continue.",
    data: Annotated[
        str | None, typer.Option("--data", metavar="JSON", help="Initial data for the first screen (an object).")
    ] = None,
    header: Header = None,
    footer: Footer = None,
    draft: Annotated[bool, typer.Option("--draft", help="Send the flow's draft (mode: draft), for testing.")] = False,
    action: Annotated[
        str,
        typer.Option(
            "--action",
            metavar="navigate|data_exchange",
            help="Open --screen, or ask the flow's endpoint (data_exchange).",
        ),
    ] = "navigate",
    from_number: From = None,
    reply_to: ReplyTo = None,
    force: Force = False,
) -> None:
    """Send a WhatsApp Flow: a button that opens the flow's first screen.

    FLOW is sent as flow_id when numeric, else as flow_name. The first screen is --screen, or the
    one known from the flow's JSON (`waba flow create` / `flow upload`). Without --token a unique
    token is made; every token sent is recorded, so `waba flow responses` ties each completion to
    this send. DEPRECATED and BLOCKED flows are refused. Free-form: only inside the window unless --force.

    \b
    Example:
        waba send flow booking --to +16505550123 --cta "Book now"
        waba send flow booking --to +16505550123 --token booking-8812 --screen APPOINTMENT
    """
    from waba_cli.services.messaging.send import send_flow

    initial_data = _json_object(data)
    o, target = out(), _target(to, from_number, reply_to, force=force)
    _show(
        lambda: send_flow(
            command_context(),
            target,
            flow_ref,
            token=token,
            cta=cta,
            body=body,
            screen=screen,
            data=initial_data,
            header=header,
            footer=footer,
            draft=draft,
            action=action,
            warn=o.warn,
            note=o.note,
        )
    )


@command(app, "media", shared=SEND_SHARED)
def media(
    to: To,
    image: Annotated[str | None, typer.Option("--image", metavar="PATH_OR_URL", help="JPEG or PNG, 5 MB.")] = None,
    document: Annotated[
        str | None, typer.Option("--document", metavar="PATH_OR_URL", help="PDF, Office or text, 100 MB.")
    ] = None,
    video: Annotated[str | None, typer.Option("--video", metavar="PATH_OR_URL", help="MP4 or 3GPP, 16 MB.")] = None,
    audio: Annotated[
        str | None, typer.Option("--audio", metavar="PATH_OR_URL", help="AAC, AMR, MP3, M4A or OGG, 16 MB.")
    ] = None,
    sticker: Annotated[str | None, typer.Option("--sticker", metavar="PATH_OR_URL", help="WebP, 500 KB.")] = None,
    caption: Annotated[
        str | None, typer.Option("--caption", metavar="T", help="Caption (image, video, document).")
    ] = None,
    filename: Annotated[
        str | None, typer.Option("--filename", metavar="NAME", help="Document name shown to the contact.")
    ] = None,
    from_number: From = None,
    reply_to: ReplyTo = None,
    force: Force = False,
) -> None:
    """Send an image, document, video, audio or sticker from a local file or an https URL.

    A local file is checked against Meta's MIME types and size limits, uploaded
    (POST /{phone-number-id}/media) and sent by its media id; a URL is sent as a link Meta fetches.
    Free-form: only inside the 24-hour window unless --force.

    \b
    Example:
        waba send media --to +16505550123 --image ./catalogue.png --caption "Spring catalogue"
        waba send media --to +16505550123 --document https://example.com/INV-8812.pdf
    """
    from waba_cli.errors import UsageError
    from waba_cli.services.messaging.send import send_media

    given = [
        (kind, value)
        for kind, value in (
            ("image", image),
            ("document", document),
            ("video", video),
            ("audio", audio),
            ("sticker", sticker),
        )
        if value
    ]
    if len(given) != 1:
        raise UsageError("give exactly one of --image, --document, --video, --audio or --sticker")
    kind, source = given[0]
    o, target = out(), _target(to, from_number, reply_to, force=force)
    _show(
        lambda: send_media(
            command_context(), target, kind, source, caption=caption, filename=filename, warn=o.warn, note=o.note
        )
    )


send_bulk.register(app)
