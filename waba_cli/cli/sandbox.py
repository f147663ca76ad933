"""`waba sandbox ...`: a local stand-in for the Graph API, and simulated customers."""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from waba_cli.cli.common import command, group, out

app = group(
    "sandbox",
    "A local Graph API with a seeded WABA, signed webhooks and fault injection.",
    examples=(
        "waba sandbox serve --port 9000",
        'waba sandbox inbound --to +15550134567 --from +4915112345678 --text "hello"',
    ),
)

DEFAULT_PORT = 9000


def _share(value: float, flag: str) -> float:
    from waba_cli.errors import UsageError

    if not 0.0 <= value <= 1.0:
        raise UsageError(f"{flag} must be between 0 and 1 (a share of requests), got {value}")
    return value


def _stop_before_serving(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


@command(app, "serve", shared=())
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: any free port).")] = DEFAULT_PORT,
    webhook_url: Annotated[
        str | None,
        typer.Option(help="Where webhooks go (default: the callback set with POST /{app-id}/subscriptions)."),
    ] = None,
    state: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Keep the sandbox's world in FILE across restarts.")
    ] = None,
    throttle_rate: Annotated[float, typer.Option(help="Share of sends answered 130429 (throttled).")] = 0.0,
    error_rate: Annotated[float, typer.Option(help="Share of requests answered with a 5xx error.")] = 0.0,
    latency_ms: Annotated[int, typer.Option(help="Delay every Graph answer by this many milliseconds.")] = 0,
    status_failure_rate: Annotated[
        float, typer.Option(help="Share of accepted messages whose delivery fails (a failed status webhook).")
    ] = 0.0,
    bench: Annotated[
        bool, typer.Option("--bench", help="Throughput mode: no status webhooks, no rate limits, no message records.")
    ] = False,
    review_delay: Annotated[float, typer.Option(help="Seconds until a submitted template is decided.")] = 2.0,
    status_delay: Annotated[
        float, typer.Option(help="Seconds until sent; delivered follows after 2x, read after 4x.")
    ] = 0.2,
    seed: Annotated[int | None, typer.Option(help="Seed for the fault-injection dice (repeatable runs).")] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="One line per Graph request: method, path, status, error code.")
    ] = False,
) -> None:
    """Run a local Graph API: the seeded sandbox WABA, Meta's checks and error codes, signed webhooks.

    Every endpoint waba calls answers with Meta's shapes. Sent messages get status webhooks
    (sent, delivered, read) signed with the sandbox app secret; submitted templates are approved
    or rejected after --review-delay seconds (a text with REJECT is rejected; see the README).
    Point waba at it with WABA_GRAPH_BASE_URL; the credentials it prints are fixed sandbox values.
    Stops on Ctrl-C or SIGTERM (exit 0).

    \b
    Example:
        waba sandbox serve --port 9000 --webhook-url http://127.0.0.1:8080/webhook
        WABA_GRAPH_BASE_URL=http://127.0.0.1:9000 waba account verify sandbox
    """
    from waba_cli.errors import OperationError, UsageError

    for value, flag in (
        (throttle_rate, "--throttle-rate"),
        (error_rate, "--error-rate"),
        (status_failure_rate, "--status-failure-rate"),
    ):
        _share(value, flag)
    if latency_ms < 0 or review_delay < 0 or status_delay < 0:
        raise UsageError("--latency-ms, --review-delay and --status-delay must not be negative")
    if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
        raise UsageError(f"--webhook-url must be an http(s) URL, got {webhook_url!r}")

    import signal

    # a stop that comes before the server runs (a demo cleaning up early) is a normal stop too
    signal.signal(signal.SIGTERM, _stop_before_serving)
    signal.signal(signal.SIGINT, _stop_before_serving)

    from waba_cli.sandbox import fixtures
    from waba_cli.sandbox.runtime import Options
    from waba_cli.sandbox.server import bind, make_app
    from waba_cli.sandbox.server import serve as run_server

    options = Options(
        webhook_url=webhook_url,
        throttle_rate=throttle_rate,
        error_rate=error_rate,
        latency_ms=latency_ms,
        status_failure_rate=status_failure_rate,
        bench=bench,
        review_delay=review_delay,
        status_delay=status_delay,
        seed=seed,
    )
    try:
        graph_app = make_app(options, state_file=state, log=_say, log_requests=verbose)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the sandbox state {state}: {exc}", "remove the file to start afresh") from None
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise OperationError(f"cannot listen on {host}:{port}: {exc.strerror}", "choose another --port") from None
    bound_host, bound_port = sock.getsockname()[:2]
    base_url = f"http://{bound_host}:{bound_port}"
    webhooks = webhook_url or graph_app.sandbox.state.app.callback_url or "none yet (give --webhook-url)"
    mode = " (bench mode: no status webhooks, no rate limits)" if bench else ""
    second = f"{fixtures.SECOND_PHONE_NUMBER} (id {fixtures.SECOND_PHONE_NUMBER_ID})"
    onboarding = (
        f"{fixtures.UNREGISTERED_PHONE_NUMBER} (id {fixtures.UNREGISTERED_PHONE_NUMBER_ID}, not registered yet), "
        f"{fixtures.PENDING_PHONE_NUMBER} (id {fixtures.PENDING_PHONE_NUMBER_ID}, code and display name pending)"
    )
    for line in (
        f"waba sandbox: Graph API at {base_url}{mode}",
        f"  export WABA_GRAPH_BASE_URL={base_url}",
        f"  app id          {fixtures.APP_ID}",
        f"  app secret      {fixtures.APP_SECRET}   (sandbox values, valid only here)",
        f"  access token    {fixtures.ACCESS_TOKEN}",
        f"  verify token    {fixtures.VERIFY_TOKEN}",
        f"  WABA            {fixtures.WABA_ID}",
        f"  numbers         {fixtures.PHONE_NUMBER} (id {fixtures.PHONE_NUMBER_ID}), {second}",
        f"  onboarding      {onboarding}",
        f"  webhooks     -> {webhooks}",
        "Ctrl-C to stop.",
    ):
        _say(line)
    run_server(graph_app, sock)
    emitter = graph_app.sandbox.emitter
    _say(f"waba sandbox: stopped ({emitter.delivered} webhook deliveries, {emitter.failed} given up)")


@command(app, "inbound", shared=("json",))
def inbound(
    to: Annotated[str, typer.Option("--to", metavar="NUM", help="The business number (E.164 or phone-number id).")],
    sender: Annotated[str, typer.Option("--from", metavar="PHONE", help="The customer's phone number.")],
    text: Annotated[str | None, typer.Option(help="A text message.")] = None,
    button: Annotated[
        str | None, typer.Option(metavar="ID", help="A tap on a reply button, list row or quick reply.")
    ] = None,
    flow_reply: Annotated[
        str | None, typer.Option(metavar="JSON", help="A completed Flow: the form's answers as a JSON object.")
    ] = None,
    webhook_url: Annotated[str | None, typer.Option(help="Deliver here instead of the sandbox's webhook URL.")] = None,
    name: Annotated[str, typer.Option(help="The customer's WhatsApp profile name.")] = "Sandbox Customer",
    sandbox_url: Annotated[
        str | None, typer.Option(help="The running sandbox (default: WABA_GRAPH_BASE_URL if local, else :9000).")
    ] = None,
) -> None:
    """Simulate a customer's message: a signed `messages` webhook, like `stripe trigger`.

    Through a running sandbox the message opens the customer's 24-hour window there and a button
    tap or Flow reply quotes the message that offered it. Without a sandbox, --webhook-url gets the
    delivery directly, signed with the sandbox app secret. Prints the receiver's HTTP status; exit 1
    unless it accepted the delivery (2xx).

    \b
    Example:
        waba sandbox inbound --to +15550134567 --from +15551230001 --text "Hi, is my order on its way?"
        waba sandbox inbound --to +15550134567 --from +15551230001 --button confirm
        waba sandbox inbound --to +15550134567 --from +15551230001 --flow-reply '{"time_slot": "10:30"}'
    """
    from waba_cli.domain.documents import loads_json
    from waba_cli.errors import OperationError, UsageError, ValidationError

    given = {k: v for k, v in (("text", text), ("button", button), ("flow_reply", flow_reply)) if v is not None}
    if len(given) != 1:
        raise UsageError("give exactly one of --text, --button and --flow-reply")
    if flow_reply is not None:
        try:
            parsed = loads_json(flow_reply, "--flow-reply")
        except ValueError as exc:
            raise UsageError(f"--flow-reply is not JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise UsageError("--flow-reply must be a JSON object of the form's answers")
    if webhook_url is not None and not webhook_url.startswith(("http://", "https://")):
        raise UsageError(f"--webhook-url must be an http(s) URL, got {webhook_url!r}")
    from waba_cli.domain.validators import phone_number

    try:  # the one phone parser: letters are refused, never read as keypad digits
        phone_number("+" + sender.strip() if sender.strip().isdigit() else sender)
    except ValueError as exc:
        raise ValidationError("--from", str(exc)) from None

    from waba_cli.sandbox import client
    from waba_cli.sandbox.errors import GraphFailure
    from waba_cli.sandbox.inbound import standalone_payload

    params: dict[str, object] = {"to": to, "from": sender, "name": name, **given}
    if webhook_url:
        params["webhook_url"] = webhook_url
    answer = client.trigger_inbound(_sandbox_url(sandbox_url), params)
    if answer is not None and "error" in answer and isinstance(answer["error"], dict):
        error = answer["error"]
        details = (error.get("error_data") or {}).get("details") or error.get("message")
        raise UsageError(f"the sandbox refused the message: {details}")
    if answer is None:
        if not webhook_url:
            raise OperationError(
                f"no sandbox answers at {_sandbox_url(sandbox_url)}",
                "start one with `waba sandbox serve`, or give --webhook-url to deliver directly",
            )
        kind, value = next(iter(given.items()))
        try:
            payload = standalone_payload(to, sender, kind, value, name=name)
        except GraphFailure as exc:
            raise UsageError(exc.details or exc.message) from None
        wamid = payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]
        try:
            status: int | None = client.post_direct(webhook_url, payload)
        except OSError as exc:
            raise OperationError(f"{webhook_url} did not answer: {exc}") from None
        answer = {"wamid": wamid, "webhook_url": webhook_url, "status": status}
    _report(answer)


def _sandbox_url(given: str | None) -> str:
    if given:
        return given
    configured = os.environ.get("WABA_GRAPH_BASE_URL", "")
    if configured.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
        return configured
    return f"http://127.0.0.1:{DEFAULT_PORT}"


def _report(answer: dict[str, object]) -> None:
    from waba_cli.errors import OperationError

    o = out()
    status = answer.get("status")
    if o.json_mode:
        o.json({"wamid": answer.get("wamid"), "webhook_url": answer.get("webhook_url"), "status": status})
    else:
        o.line(f"--> {answer.get('webhook_url')} [{status if status is not None else 'no answer'}]")
        o.line(f"    {answer.get('wamid')}")
    if not isinstance(status, int) or not 200 <= status < 300:
        raise OperationError(f"the webhook receiver did not accept the delivery (HTTP {status})")
