import pytest

from waba_cli.domain.text import printable


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain é 😀", "plain é 😀"),
        ("key\tvalue", "key\\tvalue"),
        ("a\nb\rc", "a\\nb\\rc"),
        ("\x1b[2J\x00\x7f", "\\x1b[2J\\x00\\x7f"),
        ("\x9b31m", "\\x9b31m"),
        ("abc\u202edcba", "abc\\u202edcba"),
        ("\u2066x\u2069", "\\u2066x\\u2069"),
    ],
)
def test_control_characters_are_escaped(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_keep_newlines_escapes_everything_else() -> None:
    assert printable("a\nb\t\x1b", keep_newlines=True) == "a\nb\\t\\x1b"


def test_escaping_twice_changes_nothing_more() -> None:
    once = printable("a\tb\x1b")
    assert printable(once) == once
