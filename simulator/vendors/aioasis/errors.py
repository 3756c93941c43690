"""AI绿洲 gateway error declarations: the JD Wanxiang 系统级错误码 table, texts verbatim.

AI绿洲 publishes no 错误参照码 page of its own; its envelope and wording are Wanxiang's, so the texts
are the old Wanxiang ones (万象, 商家), not the later JD Cloud / NeuHub rewordings. 10030 has a
full-width comma followed by an ASCII space. Codes are strings on the wire and in the journal.
"""

from __future__ import annotations

from typing import ClassVar

from simulator.errors import VendorError

SUCCESS = "10000"
INTERNAL = "11010"

MESSAGES: dict[str, str] = {
    "10001": "错误的请求appkey",
    "10003": "不存在相应的数据信息",
    "10004": "URL上appkey参数不能为空",
    "10010": "接口需要付费，请充值",
    "10020": "万象系统繁忙，请稍后再试",
    "10030": "调用万象网关失败， 请与万象联系",
    "10040": "超过每天限量，请明天继续",
    "10050": "用户已被禁用",
    "10060": "提供方设置调用权限，请联系提供方",
    "10070": "该数据只允许企业用户调用",
    "10090": "文件大小超限，请上传小于1M的文件",
    "11010": "商家接口调用异常，请稍后再试",
    "11030": "商家接口返回格式有误",
}


class AioasisError(VendorError):
    """A gateway error: ``{"code":"100xx","charge":false,"remain":N,"msg":...,"requestId":...}``, HTTP 200.

    A code outside ``MESSAGES`` becomes 11010 (the gateway's generic failure), so every error body
    carries a code and text the real gateway uses."""

    vendor: ClassVar[str] = "aioasis"

    def __init__(self, code: int | str) -> None:
        text = str(code).strip()
        if text not in MESSAGES:
            text = INTERNAL
        super().__init__(text, MESSAGES[text])
