from __future__ import annotations

from simulator.vendors.aliyun import handlers as h
from simulator.vendors.aliyun import text_handlers as t
from simulator.vendors.aliyun.cip import ENTRY
from simulator.vendors.aliyun.cip import handlers as cip
from simulator.vendors.base import CREDENTIAL, NO_CONTENT, ROUTING, TEXT, Route

ROUTES = [
    Route("POST", "/green/image/scan", h.image_scan, "image_scan"),
    Route("POST", "/green/image/asyncscan", h.image_asyncscan, "image_asyncscan"),
    Route("POST", "/green/image/results", h.image_results, "image_results", content=NO_CONTENT),
    Route(
        "POST", "/green/credentials/uploadcredentials", h.upload, "upload_credentials", CREDENTIAL, NO_CONTENT
    ),
    Route("POST", "/green/sface/person/groups/add", h.add_groups, "add_groups", content=NO_CONTENT),
    Route("POST", "/green/sface/person/groups/delete", h.delete_groups, "delete_groups", content=NO_CONTENT),
    Route("POST", "/green/sface/person/add", h.add_person, "add_person", content=NO_CONTENT),
    Route("POST", "/green/sface/person/delete", h.delete_person, "delete_person", content=NO_CONTENT),
    Route("POST", "/green/sface/person/update", h.set_person, "set_person", content=NO_CONTENT),
    Route("POST", "/green/sface/person", h.get_person, "get_person", content=NO_CONTENT),
    Route("POST", "/green/sface/face/add", h.add_faces, "add_faces"),
    Route("POST", "/green/sface/face/delete", h.delete_faces, "delete_faces", content=NO_CONTENT),
    Route("POST", "/green/sface/faces", h.get_faces, "get_faces", content=NO_CONTENT),
    Route("POST", "/green/sface/groups", h.get_groups, "get_groups", content=NO_CONTENT),
    Route("POST", "/green/sface/group/persons", h.get_persons, "get_persons", content=NO_CONTENT),
    Route("POST", "/green/sface/search", h.search_person, "search_person"),
    Route("POST", "/green/text/scan", t.text_scan, "text_scan", content=TEXT),
    Route("POST", "/green/image/feedback", t.image_feedback, "image_feedback", content=NO_CONTENT),
    Route("POST", "/green/text/feedback", t.text_feedback, "text_feedback", content=NO_CONTENT),
    Route(
        "*", "/green/{tail:[\\s\\S]*}", h.unknown_api, "unknown_api", ROUTING, NO_CONTENT
    ),  # any tail, newlines too
    # Green 2022-03-02 (内容安全 2.0), RPC style: one route per Action on POST /, then the gateway's
    # answer to anything else on / (cip/__init__.py)
    Route("POST", "/", cip.image_moderation, "image_moderation", select=cip.selects("ImageModeration")),
    Route(
        "POST",
        "/",
        cip.text_moderation,
        "text_moderation",
        content=TEXT,
        select=cip.selects("TextModeration"),
    ),
    Route(
        "POST",
        "/",
        cip.image_async_moderation,
        "image_async_moderation",
        select=cip.selects("ImageAsyncModeration"),
    ),
    Route(
        "POST",
        "/",
        cip.describe_image_moderation_result,
        "describe_image_moderation_result",
        content=NO_CONTENT,
        select=cip.selects("DescribeImageModerationResult"),
    ),
    Route("*", "/", cip.rpc_entry, ENTRY, ROUTING, NO_CONTENT),
]
