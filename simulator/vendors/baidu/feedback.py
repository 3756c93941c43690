"""图像审核反馈 ``/rpc/2.0/feedback/v1/report`` (``report``, on ``AipBase``). No aiohttp here.

The doc: a JSON body ``{"feedback": [{"api_url", "correct", "image" | "image_md5" | "log_id", ...}]}``,
answered ``{"log_id", "result": [{"error_code": 0, "error_msg": ""}, {"error_code": 282004,
"error_msg": "params error"}, ...]}``: one result per feedback item, in order, 282004 when the item names
no image (``image``, ``image_md5``, ``log_id``; the example writes ``image_logid``, also accepted).

Inferred: an item without ``api_url`` or ``correct`` (both marked required) or that is not an object is
282004 too; no ``feedback`` (or an empty list) is 216101 ``not enough param``, a ``feedback`` that is
neither a list nor an item 216100 ``invalid param``. What arrives from the SDKs:

- Node, Java, C#, C++: the JSON body above;
- PHP: a form, ``feedback[0][api_url]=...`` (``http_build_query``): read as the same list;
- Python (baidu-aip 2.2.18): a form in which requests flattened each item to its keys
  (``feedback=api_url&feedback=correct&...``); the first value, a string, is one item that is not an
  object: 282004.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from simulator.context import RequestCtx
from simulator.vendors.baidu.errors import MESSAGES, BaiduError
from simulator.vendors.baidu.models import log_id

if TYPE_CHECKING:
    from simulator.sim import Sim

REQUIRED = ("api_url", "correct")
IDENTIFIERS = ("image", "image_md5", "log_id", "image_logid")
#: ``feedback[0][api_url]`` (PHP ``http_build_query``)
_BRACKETS = re.compile(r"^feedback\[(\d{1,6})\]\[([^\[\]]{1,64})\]$")


def from_form(values: dict[str, str]) -> Any:
    """The ``feedback`` of a form body: the plain field, or the items of PHP's bracket fields."""
    if "feedback" in values:
        return values["feedback"]
    items: dict[int, dict[str, str]] = {}
    for key, value in values.items():
        m = _BRACKETS.match(key)
        if m:
            items.setdefault(int(m.group(1)), {})[m.group(2)] = value
    return [items[i] for i in sorted(items)] if items else None


def _present(item: dict[str, Any], key: str) -> bool:
    return item.get(key) not in (None, "")


def _problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return f"a feedback item must be an object, got {type(item).__name__}"
    missing = [k for k in REQUIRED if not _present(item, k)]
    if missing:
        return f"missing {', '.join(missing)}"
    if not any(_present(item, k) for k in IDENTIFIERS):
        return "names no image: one of image, image_md5, log_id (image_logid) is required"
    return None


def report(sim: Sim, ctx: RequestCtx, feedback: Any) -> dict[str, Any]:
    if feedback in (None, "", []):
        raise BaiduError(216101)
    items = (
        feedback if isinstance(feedback, list) else [feedback] if isinstance(feedback, (dict, str)) else None
    )
    if items is None:
        ctx.note(f"feedback must be a list of objects, got {type(feedback).__name__}")
        raise BaiduError(216100)
    result = []
    for i, item in enumerate(items):
        problem = _problem(item)
        if problem is None:
            result.append({"error_code": 0, "error_msg": ""})
        else:
            ctx.note(f"feedback[{i}]: {problem}: 282004")
            result.append({"error_code": 282004, "error_msg": MESSAGES[282004]})
    ctx.vendor_code = 0
    return {"log_id": log_id(sim), "result": result}
