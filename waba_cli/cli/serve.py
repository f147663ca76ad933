"""`waba serve-webhook`: receive Meta's webhooks, store them durably, apply them once."""

import errno
import socket
from pathlib import Path
from typing import Annotated

import typer

from waba_cli.cli.common import command, command_context, out


def register(app: typer.Typer) -> None:
    command(app, "serve-webhook", shared=("no_input",))(serve_webhook)


def serve_webhook(
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on (default: webhook.host).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default: webhook.port, 8080).")] = None,
    path: Annotated[str | None, typer.Option("--path", help="Callback path (default: webhook.path).")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Worker processes.")] = 1,
    json_logs: Annotated[bool, typer.Option("--json-logs", help="One JSON object per delivery on stdout.")] = False,
    ready_file: Annotated[
        Path | None,
        typer.Option(
            "--ready-file",
            metavar="PATH",
            help="Write the callback URL to PATH (0600) once the port accepts connections; removed on exit.",
        ),
    ] = None,
) -> None:
    """Serve the webhook callback URL: verify, store, apply every delivery; one log line each.

    GET answers Meta's verification with any configured account's verify token; POST is accepted only
    when signed (X-Hub-Signature-256) with a configured account's app secret. A 200 means the raw
    delivery is committed to the database; every message, status and business event in it is applied
    once, whatever Meta repeats or reorders. Auto-replies go out after the answer, never before.
    GET /healthz answers "ok". SIGTERM or Ctrl-C: in-flight requests finish, the queue is flushed, exit 0.
    Several instances may share one PostgreSQL database behind a load balancer. Changed app secrets
    and `waba secrets rotate-key` are followed without a restart; a replaced app secret still verifies
    for webhook.previous_secret_grace.
    Every request is bounded: headers 64 KiB and 100 fields (else 431), the headers within 10 s and
    the body within 10 s + size at 16 KiB/s (else 408), idle connections closed after 5 s, at most
    1000 open connections (more: 503). Change them under [webhook] in the config file (README "Limits").

    "listening" is printed (on stderr) only once the port accepts connections; then, too, the
    --ready-file appears and systemd hears READY=1 when NOTIFY_SOCKET is set (Type=notify units).

    \b
    Example:
        waba serve-webhook --port 8080
        waba serve-webhook --host 0.0.0.0 --workers 2 --json-logs
        waba serve-webhook --port 0 --ready-file /run/waba/ready &   # the file holds the URL
    """
    from waba_cli.errors import UsageError
    from waba_cli.services.webhooks.store import load_keys
    from waba_cli.webhook.server import Options, serve

    ctx = command_context()
    settings = ctx.settings
    route = path or settings.webhook_path
    if not route.startswith("/"):
        raise UsageError(f"--path {route!r} must start with /", "for example --path /webhook")
    if port is not None and not 0 <= port <= 65535:
        raise UsageError(f"--port {port} is not a TCP port (0-65535)")
    keys = load_keys(ctx.db, ctx.cipher())
    if not keys.apps:
        raise UsageError("no account is configured, so no delivery could be verified", "run `waba account setup` first")
    bind_host, bind_port = host or settings.webhook_host, settings.webhook_port if port is None else port
    check_bindable(bind_host, bind_port)
    if ready_file is not None:
        _clear_ready_file(ready_file)
    o = out()
    o.note(f"waba: starting on {bind_host}:{bind_port} ...")
    detail = f"{keys.apps} app secret(s), {keys.tokens} verify token(s), database {ctx.db.url}"
    ctx.close()  # the database is the writer process's from here on
    serve(
        settings,
        Options(path=route, json_logs=json_logs),
        host=bind_host,
        port=bind_port,
        workers=workers,
        debug=settings.debug,
        detail=detail,
        ready_file=str(ready_file.expanduser().absolute()) if ready_file is not None else None,
    )


def _clear_ready_file(path: Path) -> None:
    """A stale ready file (from a server that died) goes before the new server starts; the directory must exist."""
    from waba_cli.errors import UsageError

    path = path.expanduser()
    if not path.parent.is_dir():
        raise UsageError(f"--ready-file {path}: the directory {path.parent} does not exist")
    if path.is_dir():
        raise UsageError(f"--ready-file {path} is a directory")
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise UsageError(f"--ready-file {path}: cannot replace it ({exc.strerror})") from None


def check_bindable(host: str, port: int) -> None:
    """Fail in one line (exit 1) when ``host:port`` cannot be listened on, before the server is started.

    Binds and closes a socket as uvicorn binds its own (SO_REUSEADDR, IPv6 for an address with a
    colon). The server still reports a failure of its own: another process may take the port between
    this check and the server's bind.
    """
    from waba_cli.errors import OperationError, UsageError

    try:
        # every address the name resolves to, as uvicorn's server binds them
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f"--host {host!r} cannot be resolved ({exc.strerror})", "give an IP address") from None
    except (OverflowError, UnicodeError) as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc}", "check --host and --port") from None
    try:
        for family, kind, proto, _, address in addresses:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind(address)
    except OSError as exc:
        hints = {
            errno.EADDRINUSE: "another process listens there; stop it or choose another --port",
            errno.EACCES: "ports below 1024 need privileges; choose another --port",
            errno.EADDRNOTAVAIL: "the address is not one of this machine's; check --host",
        }
        reason = exc.strerror or str(exc)
        raise OperationError(
            f"serve-webhook cannot listen on {host}:{port}: {reason}",
            hints.get(exc.errno or 0, "check --host and --port"),
        ) from None
