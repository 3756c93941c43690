from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import struct
import time
import zlib

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

from simulator.content import (
    MARKER_KEY,
    DecodedTooLarge,
    InvalidBase64,
    decode_base64,
    inspect_image,
    is_marker_name,
    make_image,
    marker_from_url,
    read_marker,
    sniff_format,
    write_marker,
)
from simulator.content import decode as decode_mod

FORMATS = ("png", "jpeg", "gif", "bmp")


def _pillow_bytes(fmt: str, size: tuple[int, int] = (32, 24), **params: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 100, 50)).save(out, fmt, **params)
    return out.getvalue()


def _decodes(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.size


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _with_png_chunk_after_ihdr(png: bytes, chunk: bytes) -> bytes:
    return png[:33] + chunk + png[33:]


# --- make_image -> inspect_image round trips ---


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_each_format(fmt: str) -> None:
    data = make_image("porn_high", fmt, (120, 80), seed=3)
    info = inspect_image(data)
    assert info.format == fmt
    assert (info.width, info.height) == (120, 80)
    assert info.frames == 1
    assert info.marker == "porn_high"
    assert info.valid is True
    assert info.size == len(data)
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert read_marker(data) == "porn_high"
    assert _decodes(data) == (120, 80)


@pytest.mark.parametrize("fmt", FORMATS)
def test_marker_absent(fmt: str) -> None:
    data = make_image(None, fmt, (40, 40))
    info = inspect_image(data)
    assert info.marker is None
    assert read_marker(data) is None
    assert info.valid and info.format == fmt


@pytest.mark.parametrize("frames", [1, 5])
def test_gif_frames(frames: int) -> None:
    data = make_image("anim", "gif", (64, 48), frames=frames)
    info = inspect_image(data)
    assert (info.format, info.width, info.height) == ("gif", 64, 48)
    assert info.frames == frames
    assert info.marker == "anim"
    assert info.valid
    with Image.open(io.BytesIO(data)) as image:
        assert getattr(image, "n_frames", 1) == frames


@pytest.mark.parametrize("fmt", FORMATS)
def test_make_image_is_deterministic(fmt: str) -> None:
    assert make_image("a", fmt, seed=7) == make_image("a", fmt, seed=7)
    assert make_image("a", fmt, seed=7) != make_image("a", fmt, seed=8)


def test_make_image_tiny_size() -> None:
    for fmt in FORMATS:
        info = inspect_image(make_image("t", fmt, (1, 1)))
        assert (info.width, info.height, info.valid) == (1, 1, True)


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("x", "tiff"), {}),
        (("x", "jpg"), {}),
        (("x", "png", (0, 10)), {}),
        (("x", "png", (10, -1)), {}),
        (("x", "png", (10, 10), 2), {}),
        (("x", "gif", (10, 10), 0), {}),
        (("bad name",), {}),
        (("x" * 65,), {}),
    ],
)
def test_make_image_rejects(args: tuple[object, ...], kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_image(*args, **kwargs)  # type: ignore[arg-type]


# --- write_marker / read_marker ---


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP"])
def test_write_marker_onto_pillow_image(fmt: str) -> None:
    original = _pillow_bytes(fmt)
    assert read_marker(original) is None
    marked = write_marker(original, "scene-1.v2")
    assert read_marker(marked) == "scene-1.v2"
    info = inspect_image(marked)
    assert info.valid and info.marker == "scene-1.v2"
    assert (info.width, info.height) == (32, 24)
    assert _decodes(marked) == (32, 24)


def test_write_marker_png_layout_and_crc() -> None:
    marked = write_marker(_pillow_bytes("PNG"), "abc")
    length, kind = struct.unpack(">I4s", marked[33:41])
    assert kind == b"tEXt"
    body = marked[41 : 41 + length]
    assert body == MARKER_KEY.encode() + b"\0abc"
    (crc,) = struct.unpack(">I", marked[41 + length : 45 + length])
    assert crc == zlib.crc32(b"tEXt" + body)


def test_write_marker_jpeg_layout() -> None:
    marked = write_marker(_pillow_bytes("JPEG"), "abc")
    assert marked[:4] == b"\xff\xd8\xff\xfe"
    assert marked[4:6] == struct.pack(">H", 2 + len(b"modsim=abc"))
    assert marked[6:16] == b"modsim=abc"


def test_write_marker_gif87a_becomes_gif89a() -> None:
    original = _pillow_bytes("GIF")
    gif87 = b"GIF87a" + original[6:]
    marked = write_marker(gif87, "old")
    assert marked.startswith(b"GIF89a")
    assert read_marker(marked) == "old"
    assert inspect_image(marked).valid


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP"])
def test_write_marker_twice_latest_wins(fmt: str) -> None:
    twice = write_marker(write_marker(_pillow_bytes(fmt), "first"), "second")
    assert read_marker(twice) == "second"
    assert _decodes(twice) == (32, 24)


def test_write_marker_rejects() -> None:
    png = _pillow_bytes("PNG")
    for name in ["", "x" * 65, "a b", "名字", "a/b", "a=b"]:
        with pytest.raises(ValueError):
            write_marker(png, name)
    for data in [b"", b"garbage", _pillow_bytes("TIFF"), _pillow_bytes("WEBP"), png[:20], b"GIF89a\x01"]:
        with pytest.raises(ValueError):
            write_marker(data, "ok")


def test_is_marker_name() -> None:
    assert is_marker_name("a") and is_marker_name("A-z_0.9") and is_marker_name("x" * 64)
    assert not is_marker_name("") and not is_marker_name("x" * 65) and not is_marker_name("a\n")


def test_read_marker_png_itxt_plain_and_compressed() -> None:
    png = _pillow_bytes("PNG")
    plain = _png_chunk(b"iTXt", b"modsim\0\0\0en\0\0itxt-name")
    assert read_marker(_with_png_chunk_after_ihdr(png, plain)) == "itxt-name"
    packed = _png_chunk(b"iTXt", b"modsim\0\1\0\0\0" + zlib.compress(b"zipped"))
    assert read_marker(_with_png_chunk_after_ihdr(png, packed)) == "zipped"


def test_read_marker_png_via_pillow_pnginfo() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "hello")
    info.add_text(MARKER_KEY, "from_pillow")
    assert read_marker(_pillow_bytes("PNG", pnginfo=info)) == "from_pillow"


def test_read_marker_pillow_comments() -> None:
    assert read_marker(_pillow_bytes("JPEG", comment=b"modsim=jpeg_c")) == "jpeg_c"
    assert read_marker(_pillow_bytes("GIF", comment=b"modsim=gif_c")) == "gif_c"
    assert read_marker(_pillow_bytes("JPEG", comment=b"not a marker")) is None


def test_read_marker_invalid_names() -> None:
    png = _pillow_bytes("PNG")
    for value in [b"", b"x" * 65, b"bad name", b"ok\0"]:
        assert read_marker(_with_png_chunk_after_ihdr(png, _png_chunk(b"tEXt", b"modsim\0" + value))) is None
    other_key = _png_chunk(b"tEXt", b"modsimx\0name")
    assert read_marker(_with_png_chunk_after_ihdr(png, other_key)) is None
    assert read_marker(_pillow_bytes("JPEG", comment=b"modsim=a b")) is None


def test_read_marker_stops_at_jpeg_sos() -> None:
    jpeg = _pillow_bytes("JPEG")
    after_eoi = jpeg + b"\xff\xfe\x00\x0cmodsim=late"
    assert read_marker(after_eoi) is None


# --- inspect_image edge cases ---


def test_huge_declared_png_is_valid_and_fast() -> None:
    png = _pillow_bytes("PNG", (4, 4))
    ihdr = struct.pack(">II", 20000, 20000) + png[24:29]
    huge = png[:16] + ihdr + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr)) + png[33:]
    limit = Image.MAX_IMAGE_PIXELS
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(huge))
    started = time.perf_counter()
    info = inspect_image(huge)
    assert time.perf_counter() - started < 1.0
    assert (info.format, info.width, info.height, info.frames, info.valid) == ("png", 20000, 20000, 1, True)
    assert limit == Image.MAX_IMAGE_PIXELS


def test_huge_declared_gif_is_valid() -> None:
    gif = make_image("big", "gif", (8, 8))
    huge = gif[:6] + struct.pack("<HH", 30000, 30000) + gif[10:]
    info = inspect_image(huge)
    assert (info.width, info.height, info.valid, info.marker) == (30000, 30000, True, "big")


@pytest.mark.parametrize("fmt", FORMATS)
def test_truncated_images(fmt: str) -> None:
    data = make_image("cut", fmt, (64, 64))
    for cut in (0, 1, 5, 12, 30, len(data) // 2, len(data) - 1):
        info = inspect_image(data[:cut])
        assert info.size == cut
        if not info.valid:
            assert info.frames == 0


def test_truncated_gif_is_invalid() -> None:
    data = make_image("cut", "gif", (64, 64), frames=3)
    info = inspect_image(data[: len(data) // 2])
    assert info.format == "gif"
    assert info.width == 64
    assert not info.valid
    assert info.frames == 0
    assert info.marker == "cut"


def test_gif_without_trailer_is_valid() -> None:
    data = make_image(None, "gif", (16, 16), frames=2)
    assert data.endswith(b"\x3b")
    info = inspect_image(data[:-1])
    assert info.valid and info.frames == 2


def test_empty_and_garbage() -> None:
    for data in [b"", b"\x00" * 10, b"hello world", b"BM", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a"]:
        info = inspect_image(data)
        assert not info.valid
        assert info.frames == 0
        assert info.width is None and info.height is None
        assert info.marker is None
    assert inspect_image(b"").sha256 == hashlib.sha256(b"").hexdigest()


def test_sniff_format() -> None:
    assert sniff_format(b"\xff\xd8\xff\xe0") == "jpeg"
    assert sniff_format(b"\x89PNG\r\n\x1a\n") == "png"
    assert sniff_format(b"GIF87a") == "gif"
    assert sniff_format(b"GIF89a") == "gif"
    assert sniff_format(b"BM....") == "bmp"
    assert sniff_format(b"RIFF\0\0\0\0WEBPVP8 ") == "webp"
    assert sniff_format(b"RIFF\0\0\0\0WAVEfmt ") is None
    assert sniff_format(b"II*\0") == "tiff"
    assert sniff_format(b"MM\0*") == "tiff"
    assert sniff_format(b"GIF88a") is None
    assert sniff_format(b"") is None
    assert sniff_format(b"\0\0\0\x18ftypheic") is None


@pytest.mark.parametrize("fmt", ["WEBP", "TIFF"])
def test_inspect_other_formats(fmt: str) -> None:
    info = inspect_image(_pillow_bytes(fmt))
    assert (info.format, info.width, info.height, info.frames, info.valid) == (fmt.lower(), 32, 24, 1, True)
    assert info.marker is None


def test_inspect_animated_webp() -> None:
    frames = [Image.new("RGB", (16, 16), (i * 60, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=50)
    info = inspect_image(out.getvalue())
    assert (info.format, info.frames, info.valid) == ("webp", 3, True)


def test_unrecognised_format_is_invalid() -> None:
    info = inspect_image(_pillow_bytes("PPM"))
    assert info.format is None and not info.valid and info.width is None


@given(st.binary(max_size=2048))
def test_inspect_image_never_raises(data: bytes) -> None:
    info = inspect_image(data)
    assert info.size == len(data)
    assert info.valid or info.frames == 0


@given(
    st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM", b"RIFF\0\0\0\0WEBP", b"II*\0"]),
    st.binary(),
)
def test_inspect_image_never_raises_with_magic(magic: bytes, tail: bytes) -> None:
    info = inspect_image(magic + tail)
    assert info.format == sniff_format(magic)
    read_marker(magic + tail)


_SAMPLES = [make_image("m", fmt, (12, 10)) for fmt in FORMATS] + [make_image("m", "gif", (12, 10), frames=3)]


@settings(max_examples=300)
@given(st.sampled_from(_SAMPLES), st.data())
def test_mutated_images_never_raise(sample: bytes, data: st.DataObject) -> None:
    mutated = bytearray(sample)
    for _ in range(data.draw(st.integers(1, 8))):
        at = data.draw(st.integers(0, len(mutated) - 1))
        mutated[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(mutated)))
    blob = bytes(mutated[:cut])
    info = inspect_image(blob)
    assert info.marker in (None, "m") or is_marker_name(info.marker)
    assert read_marker(blob) == info.marker


@given(st.binary(max_size=4096))
def test_read_marker_never_raises(data: bytes) -> None:
    result = read_marker(data)
    assert result is None or is_marker_name(result)


# --- decode_base64 ---


def test_decode_plain_and_padded() -> None:
    payload = bytes(range(256)) * 3
    encoded = base64.b64encode(payload)
    assert decode_base64(encoded) == payload
    assert decode_base64(encoded.decode()) == payload
    assert decode_base64("") == b""


def test_decode_with_newlines_and_whitespace() -> None:
    payload = make_image("x", "png", (32, 32))
    wrapped = base64.encodebytes(payload).decode()
    assert "\n" in wrapped
    assert decode_base64(wrapped) == payload
    assert decode_base64(" \t" + wrapped.replace("\n", "\r\n") + "\n") == payload


@pytest.mark.parametrize("payload", [b"a", b"ab", b"abc", b"abcd", b"\xff\xfe\xfd\xfc\xfb"])
def test_decode_missing_padding(payload: bytes) -> None:
    encoded = base64.b64encode(payload)
    assert decode_base64(encoded.rstrip(b"=")) == payload
    if encoded.endswith(b"=="):
        assert decode_base64(encoded[:-1]) == payload


def test_decode_urlsafe() -> None:
    payload = b"\xfb\xff\xbf" * 10 + b"\xfe"
    urlsafe = base64.urlsafe_b64encode(payload)
    assert b"-" in urlsafe and b"_" in urlsafe
    assert decode_base64(urlsafe) == payload
    assert decode_base64(urlsafe.rstrip(b"=")) == payload


@pytest.mark.parametrize(
    "text",
    [
        "data:image/png;base64,iVBORw0KGgo=",
        "DATA:image/jpeg;base64,/9j/4AAQ",
        "  data:image/png;base64,iVBORw0KGgo=",
        "abc*",
        "ab?d",
        "QUJD=QUJD",
        "QUJD=",
        "QQ===",
        "A",
        "QUJDR",
        "+/-_",
        "QUJDé",
        b"QUJD\xff",
        "=",
    ],
)
def test_decode_rejects(text: str | bytes) -> None:
    with pytest.raises(InvalidBase64):
        decode_base64(text)


_B64_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _outcome(text: str | bytes) -> bytes | str:
    try:
        return decode_base64(text)
    except InvalidBase64 as exc:
        return f"rejected: {type(exc).__name__}"


def _stdlib_only(text: str | bytes) -> bytes | str:
    saved = decode_mod._simd_decode
    decode_mod._simd_decode = None
    try:
        return _outcome(text)
    finally:
        decode_mod._simd_decode = saved


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(alphabet=_B64_CHARS + "=-_ \n", max_size=24),
        st.binary(max_size=18).map(lambda b: base64.b64encode(b).decode()),
        st.tuples(st.binary(max_size=18), st.integers(0, 24), st.sampled_from("=-_ *\n")).map(
            lambda t: (lambda e: e[: t[1]] + t[2] + e[t[1] :])(base64.b64encode(t[0]).decode())
        ),
    ),
    st.booleans(),
)
@example("QUJD****", False)  # characters outside the alphabet, in a length pybase64 could decode
@example("QUJD----", True)  # URL-safe alphabet
@example("QUJD\n\n\n\n", False)
def test_decode_simd_path_accepts_and_decodes_exactly_as_the_stdlib_path(text: str, as_bytes: bool) -> None:
    """pybase64 is only an accelerator: every input gets the stdlib path's bytes or its rejection."""
    assert decode_mod._simd_decode is not None, "pybase64 is a dependency and must be importable"
    value: str | bytes = text.encode() if as_bytes else text
    assert _outcome(value) == _stdlib_only(value)


def test_decode_simd_path_is_used_for_canonical_input() -> None:
    calls: list[int] = []
    saved = decode_mod._simd_decode
    assert saved is not None

    def counting(text: str | bytes, validate: bool = False) -> bytes:
        calls.append(len(text))
        return saved(text, validate=validate)

    decode_mod._simd_decode = counting
    try:
        assert decode_base64(base64.b64encode(b"avatar" * 100).decode()) == b"avatar" * 100
    finally:
        decode_mod._simd_decode = saved
    assert calls == [800]


def test_decode_max_decoded() -> None:
    encoded = base64.b64encode(b"x" * 100)
    assert decode_base64(encoded, max_decoded=100) == b"x" * 100
    with pytest.raises(DecodedTooLarge) as caught:
        decode_base64(encoded, max_decoded=99)
    assert caught.value.size == 100 and caught.value.limit == 99
    assert isinstance(caught.value, InvalidBase64)


def test_decode_large_input_is_fast() -> None:
    payload = bytes(range(256)) * 40000
    wrapped = base64.encodebytes(payload)
    started = time.perf_counter()
    assert decode_base64(wrapped) == payload
    assert time.perf_counter() - started < 1.0


@given(st.one_of(st.binary(max_size=512), st.text(max_size=512)))
def test_decode_only_raises_invalid_base64(text: str | bytes) -> None:
    with contextlib.suppress(InvalidBase64):
        decode_base64(text)


@given(st.binary(max_size=512), st.booleans(), st.booleans(), st.integers(1, 80))
def test_decode_round_trip(payload: bytes, urlsafe: bool, strip: bool, line: int) -> None:
    encoded = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(payload).decode()
    if strip:
        encoded = encoded.rstrip("=")
    wrapped = "\n".join(encoded[i : i + line] for i in range(0, len(encoded), line))
    assert decode_base64(wrapped) == payload


# --- marker_from_url ---


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a.jpg#modsim=porn_high", "porn_high"),
        ("https://example.com/a.jpg?x=1#foo=bar&modsim=s-1.v2&z", "s-1.v2"),
        ("https://example.com/a.jpg#modsim=first&modsim=second", "first"),
        ("https://example.com/a.jpg", None),
        ("https://example.com/a.jpg?modsim=query_only", None),
        ("https://example.com/a.jpg#", None),
        ("https://example.com/a.jpg#modsim=", None),
        ("https://example.com/a.jpg#modsim=bad%20name", None),
        ("https://example.com/a.jpg#modsim=" + "x" * 65, None),
        ("https://example.com/a.jpg#xmodsim=abc", None),
        ("https://[::1/a.jpg#modsim=odd_host", "odd_host"),
        ("", None),
    ],
)
def test_marker_from_url(url: str, expected: str | None) -> None:
    assert marker_from_url(url) == expected
