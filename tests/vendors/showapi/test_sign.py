"""The signature and timestamp functions, against the documented worked example and the SDKs' rules."""

from __future__ import annotations

import pytest

from simulator.vendors.showapi.auth import (
    format_timestamp,
    masked_sign_string,
    md5_sign,
    parse_timestamp,
    sign_string,
    signed_items,
)

WORKED = {"showapi_appid": "100", "showapi_timestamp": "20141114142239", "content": "测试"}


def test_worked_example() -> None:
    assert sign_string(WORKED, "abc") == "content测试showapi_appid100showapi_timestamp20141114142239abc"
    assert md5_sign(WORKED, "abc") == "ed03b78b0efbafaf028d33672046bfc8"


def test_sign_itself_and_empty_entries_are_not_signed() -> None:
    params = {**WORKED, "showapi_sign": "whatever", "empty": "", "": "no-key", "showapi_res_gzip": "1"}
    assert sign_string(params, "abc") == (
        "content测试showapi_appid100showapi_res_gzip1showapi_timestamp20141114142239abc"
    )


def test_keys_sort_in_ascii_order() -> None:
    # upper case < "_" < lower case, as Java's TreeSet and PHP's ksort order them
    params = {"b": "1", "_x": "2", "B": "3", "a": "4", "a_": "5", "aa": "6"}
    assert [k for k, _ in signed_items(params)] == ["B", "_x", "a", "a_", "aa", "b"]


def test_values_are_signed_raw_not_url_encoded() -> None:
    assert sign_string({"url": "http://x/a b?c=1&d"}, "s") == "urlhttp://x/a b?c=1&ds"


def test_masked_string_hides_the_secret_and_shortens_long_values() -> None:
    masked = masked_sign_string({**WORKED, "images": "A" * 1000})
    assert masked.endswith("<secret>")
    assert "content测试" in masked
    assert "A" * 100 not in masked and "1000 chars" in masked


@pytest.mark.parametrize(
    ("raw", "epoch"),
    [
        ("20141114142239", 1415946159.0),  # 2014-11-14 14:22:39 UTC+8 = 06:22:39 UTC
        ("19700101080000", 0.0),
    ],
)
def test_timestamp_is_china_time(raw: str, epoch: float) -> None:
    assert parse_timestamp(raw) == epoch
    assert format_timestamp(epoch) == raw


@pytest.mark.parametrize(
    "raw",
    [
        "2014111414223",
        "201411141422390",
        "20141314142239",
        "20141114252239",
        "1700000000000",
        "2014-11-14 14:22",
        "２０１４１１１４１４２２３９",
    ],
)
def test_timestamp_not_parsed(raw: str) -> None:
    assert parse_timestamp(raw) is None
