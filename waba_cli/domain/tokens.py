"""What an access token must be allowed to do for waba (reference §5.3), in one place.

``account verify``, the setup wizard and ``health check`` all ask the same question of
``debug_token``'s scopes; they answer it with ``missing_scopes`` so that a token from Embedded
Signup, which may carry Meta's newer event scope in place of the management one, is accepted
by all three or by none.
"""

from __future__ import annotations

from collections.abc import Iterable

MANAGEMENT = "whatsapp_business_management"
MESSAGING = "whatsapp_business_messaging"
# Embedded Signup tokens may carry Meta's newer event scope instead of management (reference §12.4)
MANAGE_EVENTS = "whatsapp_business_manage_events"
NEEDED_SCOPES = (MANAGEMENT, MESSAGING)
# the scopes whose granular grant must name the WABA
WABA_SCOPES = (*NEEDED_SCOPES, MANAGE_EVENTS)


def missing_scopes(scopes: Iterable[str]) -> list[str]:
    """The needed scopes a token lacks; the event scope stands in for the management one."""
    held = set(scopes)
    return [s for s in NEEDED_SCOPES if s not in held and not (s == MANAGEMENT and MANAGE_EVENTS in held)]
