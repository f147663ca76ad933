"""Talking to a running sandbox from the command line (``sandbox inbound``, ``demo``): the only
HTTP the ``cli`` layer needs besides the Graph client, kept here because only ``sandbox/`` may
speak HTTP."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from waba_cli.sandbox import fixtures
from waba_cli.sandbox.webhooks import send_once


def trigger_inbound(sandbox_url: str, params: dict[str, Any], *, timeout: float = 15.0) -> dict[str, Any] | None:
    """Ask the sandbox at ``sandbox_url`` to deliver a customer message; None when none answers there."""
    try:
        response = httpx.post(f"{sandbox_url.rstrip('/')}/_sandbox/inbound", json=params, timeout=timeout)
    except httpx.ConnectError:
        return None
    try:
        answer = response.json()
    except ValueError:
        return None  # something else listens there
    return answer if isinstance(answer, dict) else None


def post_direct(webhook_url: str, payload: dict[str, Any]) -> int:
    """Sign ``payload`` with the sandbox app secret and POST it to ``webhook_url``; the HTTP status."""
    return asyncio.run(send_once(webhook_url, payload, fixtures.APP_SECRET))


def wait_until_up(url: str, *, timeout: float = 10.0) -> bool:
    """Whether something answers HTTP at ``url`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1.0)
        except httpx.HTTPError:
            time.sleep(0.05)
            continue
        return True
    return False


def subscribe_callback(sandbox_url: str, callback_url: str) -> dict[str, Any]:
    """Set the sandbox app's webhook callback (``POST /{app-id}/subscriptions`` with the app token, §5.2).

    The sandbox verifies ``callback_url`` first with a GET carrying the sandbox verify token.
    """
    params = {
        "object": "whatsapp_business_account",
        "callback_url": callback_url,
        "verify_token": fixtures.VERIFY_TOKEN,
        "fields": "messages,message_template_status_update,flows",
        "access_token": f"{fixtures.APP_ID}|{fixtures.APP_SECRET}",
    }
    response = httpx.post(
        f"{sandbox_url.rstrip('/')}/v23.0/{fixtures.APP_ID}/subscriptions", params=params, timeout=15.0
    )
    answer: dict[str, Any] = response.json()
    return answer
