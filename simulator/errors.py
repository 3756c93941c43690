"""Errors are declarations; only the error middleware renders them.

    Exception
     └── ModsimError                 anything the simulator raises on purpose
          ├── VendorError            a vendor's own error; its vendor renders the envelope
          │    └── <vendor>Error     e.g. BaiduError(216201) -> {"error_code":216201,"error_msg":"image format error"}
          └── AdminError             an admin API error: {"error": ..., "detail": ...} with an HTTP status

Anything else that escapes a handler is an *unexpected* error: the middleware answers with the
vendor's internal-error shape (``Vendor.internal_error``) and journals the traceback.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ModsimError(Exception):
    pass


class VendorError(ModsimError):
    """Base of every vendor error. Subclasses set ``vendor`` and know their code table."""

    vendor: ClassVar[str] = ""
    http_status: int = 200

    def __init__(self, code: int | str, message: str, *, http_status: int | None = None) -> None:
        super().__init__(f"{self.vendor} {code}: {message}")
        self.code = code
        self.message = message
        if http_status is not None:
            self.http_status = http_status


class AdminError(ModsimError):
    def __init__(self, status: int, error: str, detail: Any = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.detail = detail
