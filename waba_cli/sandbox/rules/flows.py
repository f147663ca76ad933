"""Flow JSON (§6): the validation errors Meta reports for a Flow JSON document, with line and
column pointers, and the Flow categories."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any

from waba_cli.domain.flow_json import json_spans

FLOW_CATEGORIES = (
    "SIGN_UP",
    "SIGN_IN",
    "APPOINTMENT_BOOKING",
    "LEAD_GENERATION",
    "CONTACT_US",
    "CUSTOMER_SUPPORT",
    "SURVEY",
    "OTHER",
)
FLOW_JSON_VERSIONS = ("2.1", "3.0", "3.1", "4.0", "5.0", "5.1", "6.0", "6.1", "6.2", "6.3", "7.0", "7.1", "7.2")
FLOW_COMPONENTS = frozenset(
    {
        "TextHeading",
        "TextSubheading",
        "TextBody",
        "TextCaption",
        "RichText",
        "TextInput",
        "TextArea",
        "CheckboxGroup",
        "RadioButtonsGroup",
        "Dropdown",
        "Footer",
        "OptIn",
        "EmbeddedLink",
        "DatePicker",
        "CalendarPicker",
        "Image",
        "ImageCarousel",
        "If",
        "Switch",
        "NavigationList",
        "ChipsSelector",
        "PhotoPicker",
        "DocumentPicker",
        "Form",
    }
)
_SCREEN_ID = re.compile(r"^[A-Z][A-Z_]*$")


@dataclass(frozen=True)
class FlowCheck:
    errors: list[dict[str, Any]]
    json_version: str | None
    data_api_version: str | None


def check_flow_json(text: str) -> FlowCheck:  # noqa: PLR0912, PLR0915 - one check per Flow JSON rule
    """Validation errors of a Flow JSON document, with line/column pointers (§6)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        error = {
            "error": "INVALID_JSON",
            "error_type": "JSON_SCHEMA_ERROR",
            "message": f"Invalid JSON: {exc.msg}.",
            "line_start": exc.lineno,
            "line_end": exc.lineno,
            "column_start": exc.colno,
            "column_end": exc.colno,
        }
        return FlowCheck([error], None, None)
    spans = json_spans(text)
    errors: list[dict[str, Any]] = []

    def report(error: str, message: str, path: str, error_type: str = "FLOW_JSON_ERROR") -> None:
        line_start, column_start, line_end, column_end = spans.get(path, (1, 1, 1, 1))
        where = {"line_start": line_start, "line_end": line_end, "column_start": column_start, "column_end": column_end}
        errors.append(
            {
                "error": error,
                "error_type": error_type,
                "message": message,
                **where,
                "pointers": [{**where, "path": path}],
            }
        )

    if not isinstance(document, dict):
        report("INVALID_PROPERTY_TYPE", "The Flow JSON must be an object.", "", "JSON_SCHEMA_ERROR")
        return FlowCheck(errors, None, None)
    version = document.get("version")
    if version is None:
        report("MISSING_REQUIRED_PROPERTY", "Missing required property 'version'.", "", "JSON_SCHEMA_ERROR")
    elif str(version) not in FLOW_JSON_VERSIONS:
        report("INVALID_PROPERTY_VALUE", f"Invalid value found for property 'version': {version}.", "version")
    data_api = document.get("data_api_version")
    screens = document.get("screens")
    if not isinstance(screens, list) or not screens:
        report("MISSING_REQUIRED_PROPERTY", "Missing required property 'screens'.", "", "JSON_SCHEMA_ERROR")
        screens = []
    seen: set[str] = set()
    terminal = False
    for s_index, screen in enumerate(screens):
        path = f"screens[{s_index}]"
        if not isinstance(screen, dict):
            report("INVALID_PROPERTY_TYPE", "A screen must be an object.", path, "JSON_SCHEMA_ERROR")
            continue
        screen_id = screen.get("id")
        if not isinstance(screen_id, str) or not _SCREEN_ID.match(screen_id):
            report("INVALID_PROPERTY_VALUE", "Invalid value found for property 'id'.", f"{path}.id")
        elif screen_id in seen:
            report("DUPLICATE_SCREEN_ID", f"Screen id {screen_id} is used more than once.", f"{path}.id")
        else:
            seen.add(screen_id)
        terminal = terminal or screen.get("terminal") is True
        layout = screen.get("layout")
        if not isinstance(layout, dict):
            report("MISSING_REQUIRED_PROPERTY", "Missing required property 'layout'.", path, "JSON_SCHEMA_ERROR")
            continue
        if layout.get("type") != "SingleColumnLayout":
            report("INVALID_PROPERTY_VALUE", "Invalid value found for property 'type'.", f"{path}.layout.type")
        children = layout.get("children")
        if not isinstance(children, list):
            report(
                "MISSING_REQUIRED_PROPERTY",
                "Missing required property 'children'.",
                f"{path}.layout",
                "JSON_SCHEMA_ERROR",
            )
            continue
        for c_index, child in enumerate(children):
            child_path = f"{path}.layout.children[{c_index}]"
            kind = child.get("type") if isinstance(child, dict) else None
            if kind not in FLOW_COMPONENTS:
                report("INVALID_PROPERTY_VALUE", "Invalid value found for property 'type'.", f"{child_path}.type")
    if screens and not terminal:
        report("MISSING_TERMINAL_SCREEN", "At least one screen must be terminal.", "screens")
    return FlowCheck(
        errors,
        str(version) if version is not None else None,
        str(data_api) if data_api is not None else None,
    )


FLOW_METRICS = (
    "ENDPOINT_REQUEST_COUNT",
    "ENDPOINT_REQUEST_ERROR",
    "ENDPOINT_REQUEST_ERROR_RATE",
    "ENDPOINT_REQUEST_LATENCY_SECONDS_CEIL",
    "ENDPOINT_AVAILABILITY",
)
METRIC_GRANULARITIES = {"DAY": 86400, "HOUR": 3600, "LIFETIME": 0}
METRIC_LOOKBACK_DAYS = {"DAY": 90, "HOUR": 30}


def metric_points(flow_id: str, name: str, granularity: str, starts: list[float]) -> list[dict[str, Any]]:
    """Made-up but steady endpoint figures (§6 shapes): the same flow and hour give the same numbers."""
    points = []
    for start in starts:
        seed = (int(flow_id[-4:]) if flow_id[-4:].isdigit() else 7) + int(start // 3600)
        requests = 40 + seed % 60
        failed = seed % 5
        if name == "ENDPOINT_REQUEST_COUNT":
            data: list[dict[str, Any]] = [{"key": "value", "value": requests}]
        elif name == "ENDPOINT_REQUEST_ERROR":
            data = [{"key": "timeout_error", "value": failed}, {"key": "unexpected_http_status_code", "value": 1}]
        elif name == "ENDPOINT_REQUEST_ERROR_RATE":
            data = [{"key": "value", "value": repr((failed + 1) / requests)}]
        elif name == "ENDPOINT_REQUEST_LATENCY_SECONDS_CEIL":
            data = [
                {"key": "1", "value": requests - 6 - failed},
                {"key": "2", "value": 5},
                {"key": "5", "value": 1 + failed},
            ]
        else:
            data = [{"key": "succeeded", "value": requests - failed}, {"key": "failed", "value": failed}]
        points.append({"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(start)), "data": data})
    return points
