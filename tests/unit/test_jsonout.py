"""The one serializer: orjson output, the standard-library fallback, and fragments in both."""

from __future__ import annotations

import json

from simulator import jsonout


def test_compact_utf8_and_short_floats() -> None:
    assert jsonout.dumps({"a": [1, 1.5e-7], "名": "值"}) == '{"a":[1,1.5e-7],"名":"值"}'.encode()


def test_fragment_is_embedded_as_serialised() -> None:
    frag = jsonout.fragment([{"x": 1, "y": 2}] * 3)
    assert json.loads(jsonout.dumps({"log_id": 7, "result": frag})) == {
        "log_id": 7,
        "result": [{"x": 1, "y": 2}] * 3,
    }


def test_fallback_reads_fragments_back() -> None:
    # an integer beyond 64 bits makes orjson refuse the body: the standard library writes it all
    frag = jsonout.fragment({"landmark72": [{"x": 3, "y": 4}]})
    body = {"log_id": 2**70, "face": frag}
    assert json.loads(jsonout.dumps(body)) == {"log_id": 2**70, "face": {"landmark72": [{"x": 3, "y": 4}]}}


def test_fallback_keeps_the_callers_default() -> None:
    assert json.loads(jsonout.dumps({"n": 2**70, "o": object}, default=lambda o: "obj")) == {
        "n": 2**70,
        "o": "obj",
    }
