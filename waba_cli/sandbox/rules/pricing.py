"""Pricing (§9.4): the customer-service window a customer's message opens, and which sends it
makes free; the price per category the analytics endpoints charge."""

from __future__ import annotations

from waba_cli.sandbox.rules.messages import Send
from waba_cli.sandbox.state import State

WINDOW_SECONDS = 24 * 3600
PRICES = {"marketing": 0.025, "utility": 0.004, "authentication": 0.0135, "service": 0.0}


def in_window(state: State, phone_number_id: str, wa_id: str, now: float) -> bool:
    last = state.windows.get((phone_number_id, wa_id))
    return last is not None and now - last < WINDOW_SECONDS


def pricing_type(send: Send, window_open: bool) -> str:
    """``free_customer_service`` for free-form and utility templates inside the window (§9.4)."""
    if window_open and (send.free_form or send.category == "utility"):
        return "free_customer_service"
    return "regular"
