"""itapi error declarations.

The vendor documents four codes and one meaning each (doc id=80 "系统错误码"): 200 成功, 400 限制或者错误,
403 权限问题, 500 服务器内部错误. Exact error texts are not published, so ``msg`` is the documented
meaning of the code. Each error also names a ``reason`` (what went wrong, e.g. ``key_invalid``): the
fixture section ``vendors.itapi.messages`` can override ``msg`` per reason or per code, and ``debug``
carries a short simulator-written explanation (the vendor's own ``debug`` texts on errors are unknown).
"""

from __future__ import annotations

from typing import ClassVar

from simulator.errors import VendorError

#: the documented code table (doc id=80), code -> meaning; 200's answer text is "请求成功" (seed)
MESSAGES: dict[int, str] = {
    200: "成功",
    400: "限制或者错误",
    403: "权限问题",
    500: "服务器内部错误",
}
SUCCESS_MSG = "请求成功"

#: reason -> (code, debug text)
REASONS: dict[str, tuple[int, str]] = {
    "key_missing": (403, "缺少请求密钥key"),
    "key_invalid": (403, "请求密钥key不正确"),
    "encoding": (400, "请求参数不是有效的UTF-8编码"),
    "too_large": (400, "请求体过大"),
    "data_missing": (400, "缺少参数data"),
    "data_too_large": (400, "图片超过10M"),
    "data_invalid": (400, "data不是有效的base64编码数据"),
    "image_invalid": (400, "图片格式不支持或图片已损坏"),
    "download_failed": (400, "网络图片下载失败"),
    "type_missing": (400, "缺少参数type"),
    "type_invalid": (400, "type参数包含不支持的审核模型"),
    "quota": (400, "调用次数超出限制"),
    "taskid_missing": (400, "缺少参数taskid"),
    "task_not_found": (400, "任务不存在"),
    "task_processing": (400, "任务处理中,请稍后查询"),
    "task_expired": (400, "任务已过期"),
    "limit": (400, "限制或者错误"),
    "forbidden": (403, "权限问题"),
    "internal": (500, "服务器内部错误"),
}

#: for fault rules: a documented code -> the reason it is rendered with
CODE_REASONS: dict[int, str] = {400: "limit", 403: "forbidden", 500: "internal"}


class ItapiError(VendorError):
    """One itapi error: ``reason`` picks the code and the debug text (see ``REASONS``)."""

    vendor: ClassVar[str] = "itapi"

    def __init__(self, reason: str, detail: str = "") -> None:
        code, debug = REASONS[reason]
        super().__init__(code, MESSAGES[code])
        self.reason = reason
        self.debug = f"{debug}: {detail}" if detail else debug
