"""The fast JPEG header reader never disagrees with Pillow: where it answers, Pillow answers the same.

``inspect_image`` asks ``_jpeg_header_fast`` first and Pillow only when the fast reader declines (None).
These tests hold the fast reader to Pillow's ``JpegImageFile`` on real encoder output and on mutations
of it (flipped, deleted, inserted bytes, truncations), and check that it does answer for the plain
layouts it exists for (so the differential test is not vacuous).
"""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from simulator.content import make_image, write_marker
from simulator.content.inspect import _jpeg_header_fast, _open_header, inspect_image
from simulator.content.markers import read_marker


def _jpeg(mode: str = "RGB", size: tuple[int, int] = (40, 30), **params: object) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, 128 if mode == "L" else None).save(buf, "JPEG", **params)
    return buf.getvalue()


def _exif() -> bytes:
    exif = Image.Exif()
    exif[0x0128] = 2
    exif[0x0110] = "modsim"
    return exif.tobytes()


PLAIN = {
    "rgb": _jpeg(),
    "gray": _jpeg("L", (17, 90)),
    "progressive": _jpeg(size=(64, 48), progressive=True),
    "optimized": _jpeg(size=(33, 65), optimize=True, quality=50),
    "marked": write_marker(_jpeg(), "porn_explicit"),
    "marked_twice": write_marker(write_marker(_jpeg(), "porn_explicit"), "normal"),
    "bad_marker_first": _jpeg()[:2] + b"\xff\xfe\x00\x0dmodsim=b@d!" + write_marker(_jpeg(), "normal")[2:],
    "synthetic": make_image(None, "jpeg", (120, 80)),
}
LEFT_TO_PILLOW = {
    "cmyk_adobe": _jpeg("CMYK"),
    "exif": _jpeg(exif=_exif()),
    "icc": _jpeg(icc_profile=b"\0" * 200),
}
ALL = {**PLAIN, **LEFT_TO_PILLOW}


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_plain_layouts_take_the_fast_path(name: str) -> None:
    data = PLAIN[name]
    fast = _jpeg_header_fast(data)
    assert fast is not None
    assert fast[:3] == _open_header(data, "jpeg")
    assert fast[3] == read_marker(data)
    with Image.open(io.BytesIO(data)) as im:
        assert fast[:2] == im.size


@pytest.mark.parametrize("name", sorted(LEFT_TO_PILLOW))
def test_parsed_app_segments_are_left_to_pillow(name: str) -> None:
    data = LEFT_TO_PILLOW[name]
    assert _jpeg_header_fast(data) is None
    info = inspect_image(data)
    assert info.valid and (info.width, info.height) == (40, 30)


def _agrees(data: bytes) -> None:
    fast = _jpeg_header_fast(data)
    if fast is not None:
        assert fast[:3] == _open_header(data, "jpeg"), data[:64]
        assert fast[3] == read_marker(data), data[:64]


EDIT = st.tuples(
    st.sampled_from(["flip", "delete", "insert", "truncate"]),
    st.floats(0, 1),
    st.integers(0, 255),
    st.integers(1, 6),
)


@settings(max_examples=600, deadline=None)
@given(st.sampled_from(sorted(ALL)), st.lists(EDIT, min_size=1, max_size=3))
def test_mutations_agree_with_pillow(name: str, edits: list[tuple[str, float, int, int]]) -> None:
    data = bytearray(ALL[name])
    header_end = data.find(b"\xff\xda") + 12  # mutate where the readers look: up to just past SOS
    for kind, where, byte, n in edits:
        at = int(where * min(len(data), header_end))
        if kind == "flip" and at < len(data):
            data[at] = byte
        elif kind == "delete":
            del data[at : at + n]
        elif kind == "insert":
            data[at:at] = bytes([byte]) * n
        else:
            del data[at:]
    _agrees(bytes(data))


def test_segment_edge_cases_agree_with_pillow() -> None:
    base = PLAIN["rgb"]
    sof = base.find(b"\xff\xc0")
    sos = base.find(b"\xff\xda")
    cases = [
        base[:sos],  # no SOS: Pillow still reads the size
        base[: sos + 6],  # SOS segment cut short
        base[:sof] + b"\xff\xff" + base[sof:],  # fill byte before SOF
        base[:sof] + b"\x00" + base[sof:],  # junk byte
        base[:sof] + b"\xff\xfe\x00\x01" + base[sof:],  # segment length 1
        base[:sof] + b"\xff\xdb\x00\x05\x00\x01\x02" + base[sof:],  # short DQT table
        base[:sof] + b"\xff\xe0\x00\x08JFIF\x00\x01" + base[sof:],  # short JFIF
        base[: sof + 5] + b"\x00\x00" + base[sof + 7 :],  # height 0
        base[: sof + 4] + b"\x0c" + base[sof + 5 :],  # 12-bit samples
        base[: sof + 9] + b"\x02" + base[sof + 10 :],  # two layers
    ]
    for data in cases:
        _agrees(data)
