"""Feedback, Green 2018-05-09: ``/green/image/feedback`` (ImageScanFeedback) and
``/green/text/feedback`` (TextFeedback). No aiohttp here.

The real service adds the content to the console's feedback library, so that later scans of it
follow the feedback. The simulator checks the body, journals the feedback (a note per item) and
answers ``{"code":200,"msg":"OK","requestId":...}`` without ``data`` (documented: "the data field in
the response body is empty"); it does not change later verdicts: the scenario decides them.

Image (documented fields, all optional): ``taskId``, ``dataId``, ``url``, ``suggestion`` (``pass`` or
``block``; with it ``scenes`` is required), ``scenes`` (``porn``, ``terrorism``, ``ad``), ``label``,
``note``. Text: one object or a JSON array of them (the documents say both), each with ``taskId``
(required), ``dataId``, ``content`` (at most ``limits.max_text_chars``), ``label`` (``normal`` or a
``/green/text/scan`` label), ``note``. Anything else, or a field of the wrong type: 400 BAD_REQUEST.
"""

from __future__ import annotations

from typing import Any

from simulator.context import RequestCtx
from simulator.vendors.aliyun.errors import bad_request
from simulator.vendors.aliyun.policy import Limits

IMAGE_SCENES = ("porn", "terrorism", "ad")
TEXT_LABELS = (
    "normal",
    "spam",
    "ad",
    "politics",
    "terrorism",
    "abuse",
    "porn",
    "flood",
    "contraband",
    "meaningless",
    "customized",
)
IMAGE_FIELDS = ("taskId", "dataId", "url", "suggestion", "label", "note")
TEXT_FIELDS = ("taskId", "dataId", "content", "label", "note")


def _strings(ctx: RequestCtx, where: str, item: dict[str, Any], names: tuple[str, ...], limit: int) -> None:
    for name in names:
        value = item.get(name)
        if value is not None and not isinstance(value, str):
            raise bad_request(ctx, f"{where}{name} is a {type(value).__name__}, not a string")
        if isinstance(value, str) and len(value) > limit:
            raise bad_request(ctx, f"{where}{name} has {len(value)} characters > {limit}")


def image(ctx: RequestCtx, body: Any, limits: Limits) -> None:
    if not isinstance(body, dict):
        raise bad_request(ctx, f"body is a JSON {type(body).__name__}, not an object")
    _strings(ctx, "", body, IMAGE_FIELDS, limits.max_url)
    if not body.get("taskId") and not body.get("url"):
        raise bad_request(ctx, "neither taskId nor url: nothing to give feedback on")
    suggestion, scenes = body.get("suggestion"), body.get("scenes")
    if suggestion is not None and suggestion not in ("pass", "block"):
        raise bad_request(ctx, f"suggestion {str(suggestion)[:20]!r} is neither pass nor block")
    if scenes is not None and (
        not isinstance(scenes, list) or not scenes or any(sc not in IMAGE_SCENES for sc in scenes)
    ):
        raise bad_request(ctx, f"scenes must be a non-empty array of {', '.join(IMAGE_SCENES)}")
    if suggestion is not None and scenes is None:
        raise bad_request(ctx, "suggestion given without scenes")
    ctx.note(
        f"image feedback: taskId {body.get('taskId')!r}, url {str(body.get('url'))[:120]!r}, "
        f"suggestion {suggestion!r}, scenes {scenes!r}, label {body.get('label')!r} (journalled, not applied)"
    )


def text(ctx: RequestCtx, body: Any, limits: Limits) -> None:
    items = body if isinstance(body, list) else [body]
    if not items or len(items) > limits.max_tasks:
        raise bad_request(ctx, f"{len(items)} feedback items, 1 to {limits.max_tasks}")
    for i, item in enumerate(items):
        where = f"[{i}]." if isinstance(body, list) else ""
        if not isinstance(item, dict):
            raise bad_request(ctx, f"{where or 'body '}is a JSON {type(item).__name__}, not an object")
        _strings(ctx, where, item, TEXT_FIELDS, limits.max_text_chars)
        if not item.get("taskId"):
            raise bad_request(ctx, f"{where}taskId is missing or empty")
        label = item.get("label")
        if label is not None and label not in TEXT_LABELS:
            raise bad_request(ctx, f"{where}label {str(label)[:30]!r} is not one of {', '.join(TEXT_LABELS)}")
        ctx.note(f"text feedback: taskId {item['taskId'][:80]!r}, label {label!r} (journalled, not applied)")
