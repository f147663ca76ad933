"""`waba number profile show | set`: Meta's limits checked before any request (exit 2, nothing sent),
the request shape, and the picture's resumable upload on the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import respx

from tests.support.graph import body_of
from tests.support.numbers import FIRST
from tests.support.world import SEED_SETUP

APP = SEED_SETUP["app_id"]
PROFILE = "/109283746501928/whatsapp_business_profile"


def _image(path: Path, size: tuple[int, int], kind: str = "PNG") -> Path:
    from PIL import Image

    Image.new("RGB", size, "green").save(path, kind)
    return path


def test_profile_show_reads_meta_s_profile(waba: Any, account: Any, graph: respx.MockRouter) -> None:
    profile = {"about": "Succulents", "websites": ["https://shop.example.com/"], "messaging_product": "whatsapp"}
    route = graph.get(PROFILE).respond(200, json={"data": [profile]})
    shown = waba("number", "profile", "show", "+15550134567", "--json")
    assert shown.code == 0, shown.err
    assert shown.json()["about"] == "Succulents"
    assert "about" in route.calls.last.request.url.params["fields"]


def test_profile_set_sends_only_the_fields_given(waba: Any, account: Any, graph: respx.MockRouter) -> None:
    route = graph.post(PROFILE).respond(200, json={"success": True})

    result = waba(
        "number", "profile", "set", FIRST,
        "--about", " Fresh succulents ", "--email", "Hello@Shop.Example.com", "--vertical", "insurance",
        "--website", "https://shop.example.com", "--website", "http://blog.example.com",
    )  # fmt: skip

    assert result.code == 0, result.err
    assert body_of(route) == {
        "messaging_product": "whatsapp",
        "about": "Fresh succulents",
        "email": "Hello@shop.example.com",
        "vertical": "FINANCE",
        "websites": ["https://shop.example.com", "http://blog.example.com"],
    }


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--about", "x" * 140), "--about: must be 1 to 139 characters"),
        (("--about", "  "), "--about"),
        (("--address", "x" * 257), "--address"),
        (("--description", "x" * 257), "--description"),
        (("--email", "not-an-address"), "--email"),
        (("--website", "https://a.example", "--website", "https://b.example", "--website", "https://c.example"),
         "at most 2"),
        (("--website", "ftp://files.example"), "http:// or https://"),
        (("--vertical", "retial"), "did you mean RETAIL?"),
        (("--vertical", "zzz"), "--vertical"),
        ((), "nothing to change"),
    ],
)  # fmt: skip
def test_profile_values_beyond_meta_s_limits_are_exit_2_and_send_nothing(
    waba: Any, account: Any, graph: respx.MockRouter, args: tuple[str, ...], said: str
) -> None:
    result = waba("number", "profile", "set", FIRST, *args)
    assert result.code == 2
    assert said in result.err
    assert not graph.calls


def test_a_10_mb_picture_is_exit_2_and_sends_nothing(
    waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path
) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024))
    result = waba("number", "profile", "set", FIRST, "--picture", str(big))
    assert result.code == 2
    assert "at most 5 MB" in result.err
    assert not graph.calls


@pytest.mark.parametrize(
    ("name", "size", "kind", "said"),
    [("small.png", (100, 100), "PNG", "at least 192 x 192"), ("logo.gif", (300, 300), "GIF", "JPEG or PNG")],
)
def test_a_picture_meta_would_refuse_is_exit_2(
    waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path, name: str, size: Any, kind: str, said: str
) -> None:
    result = waba("number", "profile", "set", FIRST, "--picture", str(_image(tmp_path / name, size, kind)))
    assert result.code == 2
    assert said in result.err
    assert not graph.calls


def test_not_an_image_is_exit_2(waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path) -> None:
    fake = tmp_path / "logo.png"
    fake.write_text("not a picture")
    assert waba("number", "profile", "set", FIRST, "--picture", str(fake)).code == 2
    assert not graph.calls


def test_the_picture_goes_through_the_resumable_upload_then_its_handle_is_set(
    waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path
) -> None:
    picture = _image(tmp_path / "logo.jpg", (640, 640), "JPEG")
    started = graph.post(f"/{APP}/uploads").respond(200, json={"id": "upload:MTphdHRhY2htZW50?sig=ARZx"})
    uploaded = graph.post("/upload:MTphdHRhY2htZW50").respond(200, json={"h": "4::aW1hZ2UvanBlZw==:ARbHandle"})
    profile = graph.post(PROFILE).respond(200, json={"success": True})

    result = waba("number", "profile", "set", FIRST, "--picture", str(picture), "--json")

    assert result.code == 0, result.err
    params = started.calls.last.request.url.params
    assert (params["file_name"], params["file_length"], params["file_type"]) == (
        "logo.jpg",
        str(picture.stat().st_size),
        "image/jpeg",
    )
    request = uploaded.calls.last.request
    assert request.headers["file_offset"] == "0"
    assert request.content == picture.read_bytes()
    assert body_of(profile) == {
        "messaging_product": "whatsapp",
        "profile_picture_handle": "4::aW1hZ2UvanBlZw==:ARbHandle",
    }


def test_dry_run_prints_the_three_requests_and_sends_none(
    waba: Any, account: Any, graph: respx.MockRouter, tmp_path: Path
) -> None:
    picture = _image(tmp_path / "logo.png", (300, 200))
    result = waba("number", "profile", "set", FIRST, "--about", "Hi", "--picture", str(picture), "--dry-run", "--json")
    assert result.code == 0, result.err
    requests = result.json()["requests"]
    assert [r["url"].split("?")[0].rsplit("/", 1)[-1] for r in requests] == [
        "uploads",
        "upload:%3Csession%20id%3E",
        "whatsapp_business_profile",
    ]
    assert requests[2]["json"]["about"] == "Hi"
    assert all(r["headers"]["Authorization"] == "Bearer EAAG…GHIJ" for r in requests)  # the token masked
    assert "crops the picture" in result.err  # not square
    assert not graph.calls
