"""Comparing two copies of a template: the file's and Meta's (``template apply``, ``template sync``).

Meta answers in its own spelling (CDN URLs for media examples, whole URLs for URL button examples,
its own texts for authentication templates); ``comparable`` puts both copies in one spelling, so
only a real change counts. Pure functions, no I/O.
"""

from __future__ import annotations

from typing import Any

from waba_cli.domain.templates.forms import as_create_shape, normalize_components, url_example_suffix
from waba_cli.domain.templates.rules import MEDIA_FORMATS, upper_text


def comparable(category: Any, parameter_format: Any, components: Any, ttl: Any = None) -> dict[str, Any]:
    """What decides whether two copies of a template differ, in one spelling.

    Media header examples are left out: Meta answers with CDN URLs, never the uploaded handle. URL
    button examples are compared as suffixes, authentication templates in the create shape (Meta
    writes their texts).
    """
    upper_category = upper_text(category)
    result: list[Any] = []
    components = as_create_shape(category, components)
    for component in normalize_components(components) if isinstance(components, list) else []:
        if not isinstance(component, dict):
            result.append(component)
            continue
        kind = component.get("type")
        item = {k: v for k, v in component.items() if v is not None}
        if kind == "HEADER" and item.get("format") in MEDIA_FORMATS:
            item.pop("example", None)
        if kind == "BODY" and isinstance(item.get("example"), dict):
            params = item["example"].get("body_text_named_params")
            if isinstance(params, list):
                item["example"] = {
                    "body_text_named_params": sorted(
                        (p for p in params if isinstance(p, dict)), key=lambda p: str(p.get("param_name"))
                    )
                }
        if kind == "BUTTONS" and isinstance(item.get("buttons"), list):
            item["buttons"] = [_comparable_button(b) for b in item["buttons"]]
        if isinstance(item.get("text"), str):
            item["text"] = item["text"].strip()
        result.append(item)
    return {
        "category": upper_category,
        "parameter_format": upper_text(parameter_format) or "POSITIONAL",
        "components": result,
        "message_send_ttl_seconds": ttl,
    }


def _comparable_button(button: Any) -> Any:
    if not isinstance(button, dict) or button.get("type") != "URL" or not isinstance(button.get("example"), list):
        return button
    return {**button, "example": [url_example_suffix(button.get("url"), e) for e in button["example"]]}
