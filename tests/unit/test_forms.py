"""The fast urlencoded parser agrees with the standard library on every input."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.forms import EncodingError, parse_qs_strict

PIECES = st.sampled_from(
    [
        "%",
        "%2B",
        "%2F",
        "%3D",
        "%E4%BD%A0",
        "%ff",
        "%e4",
        "%G1",
        "+",
        "=",
        "&",
        "a",
        "Z",
        "0",
        " ",
        "\t",
        "你",
        "_",
        "-",
        "%0A",
        "\n",
    ]
)
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=3)), max_size=40).map("".join)


def stdlib(text: str) -> dict[str, str] | None:
    out: dict[str, str] = {}
    try:
        for k, v in parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict"):
            out.setdefault(k, v)
    except ValueError:
        return None
    return out


@settings(max_examples=2000, deadline=None)
@given(TEXT)
def test_parse_matches_parse_qsl(text: str) -> None:
    want = stdlib(text)
    try:
        got: dict[str, str] | None = parse_qs_strict(text)
    except EncodingError:
        got = None
    assert got == want


def test_long_base64_value() -> None:
    value = "iVBORw0KGgo%2B%2Fabc%3D%3D" * 2000
    assert parse_qs_strict("a=1&images=" + value) == {"a": "1", "images": "iVBORw0KGgo+/abc==" * 2000}


def test_replacement_character_sent_is_kept_and_bad_utf8_is_refused() -> None:
    # the fast parser replaces bad UTF-8 with U+FFFD; a real U+FFFD must survive, a bad byte must not
    assert parse_qs_strict("t=%EF%BF%BD&u=\ufffd") == {"t": "\ufffd", "u": "\ufffd"}
    with pytest.raises(EncodingError):
        parse_qs_strict("t=%EF%BF%BD&u=%ff")
    with pytest.raises(EncodingError):
        parse_qs_strict(b"t=\xff")


def test_invalid_escapes_take_the_standard_path() -> None:
    for text in ["%%3D", "%%41", "a%4", "a%", "%zz%41", "x%3D%", "%E4%BD"]:
        want = stdlib(text)
        try:
            got: dict[str, str] | None = parse_qs_strict(text)
        except EncodingError:
            got = None
        assert got == want, text
