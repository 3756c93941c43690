"""The three 2054-x connectors: showapi parameters in, Baidu's body out (Baidu's own logic decides).

- 2054-1 (用户头像审核) -> Baidu face_audit with ``images`` / ``imgUrls`` / ``configId``. An absent or
  empty ``configId`` uses Baidu's ``vendors.baidu.default_config`` whatever ``empty_config_id`` says:
  the connector doc has no configId parameter, so the reseller must send its own.
- 2054-2 (GIF色情识别) -> Baidu detect_gif with ``image``; the id key is ``logid``, as the connector
  doc's example shows.
- 2054-3 (文本审核) -> Baidu antispam v2 with ``content`` (UTF-8, at most 20000 bytes).

Uploaded files (multipart parts with a filename) are the images: base64-encoded, they fill
``images`` (every file part, in order, comma-joined) or ``image`` (the first file part) when the text
parameters do not already carry it. Whatever the part's name: the real gateway's mapping is not
documented. 2054-3 ignores files.

No ``ret_code`` is injected into the bodies: the connector doc's examples are Baidu's raw JSON.
Baidu's failures propagate as ``BaiduError``; the handler passes them through (showapi code 0).
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from simulator.context import RequestCtx
from simulator.vendors.baidu import censor
from simulator.vendors.baidu import models as baidu
from simulator.vendors.baidu.policy import settings_of

if TYPE_CHECKING:
    from simulator.sim import Sim

VENDOR = "showapi"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def avatar_audit(
    sim: Sim, ctx: RequestCtx, credential: str, params: dict[str, str], files: dict[str, bytes]
) -> dict[str, Any]:
    """2054-1: Baidu's face_audit body."""
    upstream: dict[str, str] = {k: params[k] for k in ("images", "imgUrls", "configId") if k in params}
    if files and not upstream.get("images"):
        upstream["images"] = ",".join(_b64(f) for f in files.values())
        ctx.note(f"images from {len(files)} uploaded file(s): {', '.join(files)}")
    if not upstream.get("configId", "").strip():
        upstream["configId"] = settings_of(sim).default_config
    return await baidu.face_audit(sim, ctx, credential, upstream, vendor=VENDOR, operation="2054-1")


async def gif_porn(
    sim: Sim, ctx: RequestCtx, credential: str, params: dict[str, str], files: dict[str, bytes]
) -> dict[str, Any]:
    """2054-2: Baidu's detect_gif body with ``logid``."""
    image = params.get("image", "")
    if files and not image:
        name, data = next(iter(files.items()))
        image = _b64(data)
        ctx.note(f"image from the uploaded file {name!r} ({len(data)} bytes)")
    return await censor.detect_gif(
        sim, ctx, credential, image, vendor=VENDOR, operation="2054-2", log_id_key="logid"
    )


async def text_censor(
    sim: Sim, ctx: RequestCtx, credential: str, params: dict[str, str], files: dict[str, bytes]
) -> dict[str, Any]:
    """2054-3: Baidu's antispam v2 body."""
    if files:
        ctx.note(f"uploaded file(s) ignored by 2054-3: {', '.join(files)}")
    return await censor.spam(sim, ctx, credential, params.get("content"), vendor=VENDOR, operation="2054-3")
