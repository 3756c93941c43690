"""showapi (易源) gateway errors: ``showapi_res_code`` and its ``showapi_res_error`` text.

The texts are the code table of the seed connector doc (易源's own table, copied by many clients);
the real gateway's wording was captured only for -1, so the table text is what the simulator sends
for every other code. -1 also has a captured validation text, ``验证有误!showapi_appid不是数字!``.
Every code is HTTP 200 with the body ``{}``.

``UpstreamError`` is not a gateway failure: Baidu (behind the 2054-x connectors) refused the call, and
the reseller passes Baidu's error object through as ``showapi_res_body`` with ``showapi_res_code`` 0.
"""

from __future__ import annotations

from typing import ClassVar

from simulator.errors import VendorError
from simulator.vendors.baidu.errors import BaiduError

MESSAGES: dict[int, str] = {
    -1: "系统调用错误",
    -2: "可调用次数或金额为0",
    -3: "读取超时",
    -4: "服务端返回数据解析错误",
    -5: "后端服务器DNS解析错误",
    -6: "服务不存在或未上线",
    -7: "API创建者的网关资源不足",
    -1000: "系统维护",
    -1002: "showapi_appid字段必传",
    -1003: "showapi_sign字段必传",
    -1004: "签名sign验证有误",
    -1005: "showapi_timestamp无效",
    -1006: "app无权限调用接口",
    -1007: "没有订购套餐",
    -1008: "服务商关闭对您的调用权限",
    -1009: "调用频率受限",
    -1010: "找不到您的应用",
    -1011: "子授权app_child_id无效",
    -1012: "子授权已过期或失效",
    -1013: "子授权ip受限",
    -1014: "token权限无效",
}

#: the real gateway's text for a non-numeric ``showapi_appid`` (code -1), from a captured response
APPID_NOT_A_NUMBER = "验证有误!showapi_appid不是数字!"


class ShowapiError(VendorError):
    """A gateway error: ``showapi_res_code`` < 0, body ``{}``.

    ``gzip``: the request asked for ``showapi_res_gzip=1``; set by the handler once the parameters are
    read (errors raised before that, by fault rules or while parsing, are never compressed).
    """

    vendor: ClassVar[str] = "showapi"

    def __init__(self, code: int, message: str | None = None, *, gzip: bool = False) -> None:
        super().__init__(code, message if message is not None else MESSAGES[code])
        self.gzip = gzip


class UpstreamError(ShowapiError):
    """Baidu's error passed through: ``showapi_res_code`` 0, ``showapi_res_error`` "", Baidu's error
    object (``{"log_id":...,"error_code":N,"error_msg":"..."}``) as ``showapi_res_body``."""

    def __init__(self, upstream: BaiduError, *, gzip: bool = False) -> None:
        super().__init__(0, f"upstream Baidu {upstream.code}: {upstream.message}", gzip=gzip)
        self.upstream = upstream
