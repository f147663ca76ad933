import json
import tomllib

import pytest

from waba_cli.domain.documents import MAX_DEPTH, DocumentError, loads_json, loads_toml, nesting_depth

DEEP = 100_000


def test_json_as_deep_as_allowed_is_read() -> None:
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert nesting_depth(text) == MAX_DEPTH
    assert loads_json(text, "f.json") == json.loads(text)


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_json_nested_100000_deep_is_refused_before_parsing(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    with pytest.raises(DocumentError, match=r"f\.json: nested 100000 levels deep, more than the 100"):
        loads_json(opener * DEEP + "1" + closer * DEEP, "f.json")


@pytest.mark.parametrize("value", ["[" * DEEP + "]" * DEEP, "{a=" * DEEP + "1" + "}" * DEEP])
def test_toml_nested_100000_deep_is_refused_before_parsing(value: str) -> None:
    with pytest.raises(DocumentError, match="nested 100000 levels deep"):
        loads_toml(f"x = {value}\n", "f.toml")


def test_brackets_in_strings_and_comments_do_not_count() -> None:
    text = json.dumps({"a": "[[[[" * 500, "b": ['\\"[[[' * 300]})
    assert nesting_depth(text) == 2
    toml = 'a = "[[[[[[["\nb = \'{{{{{{\'\nc = """\n[[[[[[\n"""\n# [[[[[[[\n[[t]]\nd = [[1], [2]]\n'
    assert nesting_depth(toml, toml=True) == 2
    assert loads_toml(toml, "f.toml") == tomllib.loads(toml)


def test_syntax_errors_are_the_parsers_own() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_json("{nope", "f.json")
    with pytest.raises(tomllib.TOMLDecodeError):
        loads_toml("= nope", "f.toml")
