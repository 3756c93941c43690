"""Content Moderation 2.0 business codes: ``Code`` (an integer) and ``Msg`` (``Message`` for
TextModeration) in an HTTP 200 body, as the documents' code tables list them (``Code``: 200, 280,
400-409, 500; docs/aliyun.md). Rendered only by ``cip.envelope``.

The texts are the simulator's (inferred: the documents give the codes' meanings, not the ``Msg``
strings), after the one text seen from the real service, ``401`` ``parameter invalid(imageUrl)`` for
an image URL to a private address: ``<what> (<parameter>)``.
"""

from __future__ import annotations

from simulator.vendors.aliyun.cip import MESSAGE_KEY_OPS
from simulator.vendors.aliyun.errors import AliyunError

#: code -> (Msg, the documented meaning)
CIP_CODES: dict[int, tuple[str, str]] = {
    280: ("processing", "检测中"),
    400: ("parameter empty", "请求参数为空"),
    401: ("parameter invalid", "请求参数错误"),
    402: ("parameter length invalid", "请求参数长度不符合接口规定"),
    403: ("qps exceed limit", "请求超过QPS限制"),
    404: ("download image failed", "传入的图片下载遇到错误"),
    405: ("download image timeout", "传入的图片下载超时"),
    406: ("image too large", "传入的图片过大"),
    407: ("image format not supported", "传入的图片格式暂不支持"),
    408: ("permission denied", "该账号无权限调用该接口"),
    409: ("reqId not found", "传入的reqId不存在"),
    500: ("system error", "系统异常"),
}


class CipError(AliyunError):
    """``CipError(401, "imageUrl", operation="image_moderation")``:
    ``{"Code":401,"Msg":"parameter invalid(imageUrl)","RequestId":...}`` (``Message`` for
    ``text_moderation``)."""

    def __init__(self, code: int, param: str | None = None, *, operation: str = "") -> None:
        text = CIP_CODES.get(code, CIP_CODES[500])[0]
        super().__init__(code, f"{text}({param})" if param else text, http_status=200)
        self.message_key = "Message" if operation in MESSAGE_KEY_OPS else "Msg"
