"""Baidu AI error declarations. Texts are the vendor's own, typos included ("exsits", "fromat").

Gateway-level codes (< 1000: auth, quota, routing) are answered without ``log_id``, as captures show;
business codes (216xxx, 282xxx) carry ``log_id`` first, as the face_audit doc's failure example does.
Every code is HTTP 200 (the Java SDK only parses 200 bodies and users do receive these).
"""

from __future__ import annotations

from typing import ClassVar

from simulator.errors import VendorError

MESSAGES: dict[int, str] = {
    1: "Unknown error",
    2: "Service temporarily unavailable",
    3: "Unsupported openapi method",
    4: "Open api request limit reached",
    6: "No permission to access data",
    13: "Get service token failed",
    14: "IAM Certification failed",
    15: "app not exsits or create failed",
    17: "Open api daily request limit reached",
    18: "Open api qps request limit reached",
    19: "Open api total request limit reached",
    100: "Invalid parameter",
    110: "Access token invalid or no longer valid",
    111: "Access token expired",
    216015: "module closed",
    216100: "invalid param",
    216101: "not enough param",
    216102: "service not support",
    216103: "param too long",
    216110: "appid not exist",
    216111: "invalid userid",
    216200: "empty image",
    216201: "image format error",
    216202: "image size error",
    216300: "db error",
    216400: "backend error",
    216401: "internal error",
    216500: "unknown error",
    282000: "logic internal error",
    282001: "logic backend error",
    282002: "input encoding error",
    282004: "params error",
    282100: "image transcode error",
    282202: "antiporn detect timeout",
    282203: "image frame size error",
    282204: "image frames limit error",
    282205: "image fromat must gif",
    282800: "configId param is error or null",
    282801: "image and imgUrl are empty",
    282802: "either image and imgUrl has value",
    282804: "download image error",
    282805: "internal request failed",
    282806: "image length or width error",
    282872: "too many img urls max num is 30",
    282873: "some img urls invalid",
}


class BaiduError(VendorError):
    vendor: ClassVar[str] = "baidu"

    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(code, message if message is not None else MESSAGES.get(code, "Unknown error"))

    @property
    def gateway(self) -> bool:
        return isinstance(self.code, int) and self.code < 1000


class OAuthError(BaiduError):
    """``/oauth/2.0/token`` errors: ``{"error_description": ..., "error": ...}`` with a 4xx status."""

    def __init__(self, error: str, description: str, http_status: int) -> None:
        VendorError.__init__(self, error, description, http_status=http_status)
        self.error = error
