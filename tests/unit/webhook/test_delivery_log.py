"""serve-webhook's line per delivery: what the delivery carried is escaped, it cannot forge a line."""

from __future__ import annotations

import io
import json

from waba_cli.webhook.server import DeliveryLog


def test_a_delivery_cannot_forge_a_log_line_or_reach_the_terminal() -> None:
    log = DeliveryLog(io.StringIO(), json_lines=False)

    line = log.line(200, "stored", field="messages\n2026-01-01  --> fake", ids=["wamid.\x1b[2J"], detail="a\u202eb")

    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line
    assert "messages\\n2026-01-01  --> fake [wamid.\\x1b[2J]" in line and line.endswith(": a\\u202eb")


def test_json_lines_keep_the_exact_text() -> None:
    log = DeliveryLog(io.StringIO(), json_lines=True)

    line = log.line(200, "stored", field="messages\n", ids=["wamid.\x1b"])

    assert json.loads(line)["field"] == "messages\n" and json.loads(line)["ids"] == ["wamid.\x1b"]
