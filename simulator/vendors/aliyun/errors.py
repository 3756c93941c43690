"""Alibaba Cloud Green error declarations: POP gateway errors and Green business codes.

Two families, two shapes (rendered only by ``envelope.render_error``):

- ``PopError``: the POP API gateway, before Green runs (auth, signature, routing, throttling):
  ``{"RequestId","HostId","Code","Message","Recommend"}`` with the gateway's HTTP status, or the
  same as ``<Error>`` XML when the client asked for XML.
- ``GreenError``: a Green business code in the JSON body, ``{"code","msg","requestId"}``, HTTP 200
  (411 is HTTP 403, as the error-center table says).

Texts are the vendor's own (facts file A.6/A.7). Where the facts leave a text open it is marked
inferred in docs/aliyun.md: ``InvalidAction.NotFound`` reuses the InvalidApi text, ``Throttling.Api``
is unconfirmed, ``MissingHeader`` follows a POP gateway answer seen in the wild.
"""

from __future__ import annotations

from typing import ClassVar

from simulator.context import RequestCtx
from simulator.errors import VendorError

GREEN_MESSAGES: dict[int, str] = {
    200: "OK",
    280: "PROCESSING",
    400: "BAD_REQUEST",
    401: "NOT_ALLOWED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    408: "No permissions.",
    411: "You don't have permission.",
    480: "DOWNLOAD_FAILED",
    500: "GENERAL_ERROR",
    503: "ServiceUnavailable",
    580: "DB_FAILED",
    581: "TIMEOUT",
    585: "CACHE_FAILED",
    586: "ALGO_FAILED",
    587: "MQ_FAILED",
    588: "EXCEED_QUOTA",
    589: "TOO_LARGE",
    590: "BAD_FORMAT",
    591: "CONNECTION_POOL_FULL",
    592: "DOWNLOAD_TIMEOUT",
    594: "EXPIRED",
    595: "CATCH_FRAME_FAILED",
    596: "PERMISSION_DENY",
}
GREEN_HTTP_STATUS: dict[int, int] = {411: 403}

#: the common parameters of an RPC request (RPC v1 signs with the last six)
RPC_COMMON = (
    "Action",
    "Version",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
)

#: Code -> (HTTP status, Message). ``{sts}`` is the server's string to sign, ``{header}`` a header name.
POP_ERRORS: dict[str, tuple[int, str]] = {
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidAccessKeyId.Inactive": (400, "Specified access key is disabled."),
    "SignatureDoesNotMatch": (
        400,
        "Specified signature is not matched with our calculation. server string to sign is:{sts}",
    ),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "InvalidTimeStamp.Format": (400, "Specified time stamp or date value is not well formatted."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "ContentMD5NotMatched": (400, "Specified content md5 is not matched with your request body."),
    "InvalidSignatureMethod": (400, "Specified signature method is not valid."),
    "MissingHeader": (400, "Specified header {header} is mandatory for this action."),
    "InvalidApi.NotFound": (404, "Specified api is not found, please check your url and method."),
    "InvalidAction.NotFound": (400, "Specified api is not found, please check your url and method."),
    "InvalidProduct.NotFound": (404, "Cannot find product according to your specified domain."),
    "Throttling": (400, "Request was denied due to request throttling."),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "Throttling.Api": (400, "Request was denied due to api flow control."),
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
    "InternalError": (
        500,
        "The request processing has failed due to some unknown error, exception or failure.",
    ),
    # RPC-style APIs (Green 2022-03-02): facts A.7's ``Missing{Param}`` / ``{Param} is mandatory for
    # this action.`` for each common parameter, and a version the product does not have
    "InvalidVersion": (400, "Specified parameter Version is not valid."),
    **{f"Missing{param}": (400, f"{param} is mandatory for this action.") for param in RPC_COMMON},
}


class AliyunError(VendorError):
    """Base of both families. The handler fills in what only the request knows before re-raising:
    the id it answers with, the host it was called on and whether the client asked for XML."""

    vendor: ClassVar[str] = "aliyun"
    request_id: str | None = None
    host_id: str | None = None
    xml: bool = False

    def annotate(self, request_id: str, host_id: str | None, xml: bool) -> AliyunError:
        if self.request_id is None:
            self.request_id = request_id
            self.host_id = host_id
            self.xml = xml
        return self


class GreenError(AliyunError):
    def __init__(self, code: int, msg: str | None = None) -> None:
        super().__init__(
            code,
            msg if msg is not None else GREEN_MESSAGES.get(code, "GENERAL_ERROR"),
            http_status=GREEN_HTTP_STATUS.get(code, 200),
        )


class PopError(AliyunError):
    """``http_status``: where one code answers with another status on another API style (an unknown
    RPC ``Action`` is ``InvalidAction.NotFound`` with HTTP 404)."""

    def __init__(self, code: str, *, sts: str = "", header: str = "", http_status: int | None = None) -> None:
        status, text = POP_ERRORS.get(code, POP_ERRORS["InternalError"])
        super().__init__(code, text.format(sts=sts, header=header), http_status=http_status or status)


def bad_request(ctx: RequestCtx, why: str) -> GreenError:
    """The top-level 400, its reason noted in the journal (the real msg is only ``BAD_REQUEST``)."""
    ctx.note(f"400 BAD_REQUEST: {why}")
    return GreenError(400)
