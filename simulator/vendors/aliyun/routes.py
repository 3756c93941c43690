from __future__ import annotations

from simulator.vendors.aliyun import handlers as h
from simulator.vendors.base import CREDENTIAL, NO_CONTENT, ROUTING, Route

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
    Route(
        "*", "/green/{tail:[\\s\\S]*}", h.unknown_api, "unknown_api", ROUTING, NO_CONTENT
    ),  # any tail, newlines too
]
