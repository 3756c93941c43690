"""Image content: base64 decoding, header inspection, scenario markers and synthetic images."""

from simulator.content.decode import DecodedTooLarge, InvalidBase64, decode_base64
from simulator.content.inspect import ImageInfo, inspect_image, sniff_format
from simulator.content.markers import MARKER_KEY, is_marker_name, marker_from_url, read_marker, write_marker
from simulator.content.synth import make_image

__all__ = [
    "MARKER_KEY",
    "DecodedTooLarge",
    "ImageInfo",
    "InvalidBase64",
    "decode_base64",
    "inspect_image",
    "is_marker_name",
    "make_image",
    "marker_from_url",
    "read_marker",
    "sniff_format",
    "write_marker",
]
