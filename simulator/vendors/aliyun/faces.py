"""The custom face library (自定义人脸库), per account (uid), and its search for ``sface-n``. No aiohttp.

Persons hold up to ``limits.max_face_urls`` (20) faces and belong to groups; a group exists while a
person is in it. Bodies and answers past AddFaces and GetPerson are inferred from the API's naming
(docs/aliyun.md). Every answer's ``data`` is an object with its own ``code``; a person that does
not exist (or already exists, for AddPerson) is ``data.code`` 404 / 400 with ``msg``, the request
itself still ``code`` 200. Malformed bodies are the top-level 400.

A face image's identity: the content hash of what its URL resolves to, and the identity names of the
faces in its scenario. An image scanned with ``sface-n`` (or SearchPerson) matches a person of the
group when it has the same content hash as one of the person's faces (rate 99.9), when its scenario
shows a face with the same identity name (rate = that face's probability), or when its scenario
has a ``custom`` identity whose ``id`` is the personId (rate likewise). Top 5, best first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.context import RequestCtx
from simulator.scenarios.matcher import ContentRef, Target, record
from simulator.scenarios.model import Scenario
from simulator.vendors.aliyun.errors import GREEN_MESSAGES, bad_request
from simulator.vendors.aliyun.loading import load
from simulator.vendors.aliyun.policy import Limits
from simulator.vendors.aliyun.scenes import Match, rate

if TYPE_CHECKING:
    from simulator.sim import Sim

SAME_IMAGE_RATE = 99.9
TOP = 5


@dataclass
class FaceImage:
    face_id: str
    url: str
    sha256: str | None
    names: tuple[str, ...]


@dataclass
class Person:
    person_id: str
    name: str = ""
    note: str = ""
    groups: list[str] = field(default_factory=list)
    faces: dict[str, FaceImage] = field(default_factory=dict)


def library(sim: Sim, uid: str) -> dict[str, Person]:
    libs: dict[str, dict[str, Person]] = sim.state.vendor_state("aliyun").setdefault("faces", {})
    return libs.setdefault(uid, {})


def _obj(ctx: RequestCtx, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request(ctx, f"body is a JSON {type(body).__name__}, not an object")
    return body


def _str(ctx: RequestCtx, body: dict[str, Any], key: str, required: bool = True) -> str:
    v = body.get(key)
    if v is None and not required:
        return ""
    if not isinstance(v, str) or (required and not v):
        raise bad_request(ctx, f"{key} must be a non-empty string")
    return v


def _strs(ctx: RequestCtx, body: dict[str, Any], key: str) -> list[str]:
    v = body.get(key)
    if not isinstance(v, list) or not v or not all(isinstance(x, str) and x for x in v):
        raise bad_request(ctx, f"{key} must be a non-empty array of strings")
    return list(dict.fromkeys(v))


def _missing(ctx: RequestCtx, person_id: str) -> dict[str, Any]:
    ctx.note(f"person {person_id!r} is not in this account's face library")
    return {"code": 404, "msg": GREEN_MESSAGES[404], "personId": person_id}


def add_person(sim: Sim, ctx: RequestCtx, uid: str, body: Any) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    groups = _strs(ctx, b, "groupIds")
    name, note = _str(ctx, b, "name", False), _str(ctx, b, "note", False)
    lib = library(sim, uid)
    if pid in lib:
        ctx.note(f"person {pid!r} exists already")
        return {"code": 400, "msg": GREEN_MESSAGES[400], "personId": pid}
    lib[pid] = Person(pid, name, note, groups)
    return {"code": 200, "personId": pid, "groupIds": groups}


def delete_person(sim: Sim, ctx: RequestCtx, uid: str, body: Any) -> dict[str, Any]:
    pid = _str(ctx, _obj(ctx, body), "personId")
    if library(sim, uid).pop(pid, None) is None:
        return _missing(ctx, pid)
    return {"code": 200, "personId": pid}


def set_person(sim: Sim, ctx: RequestCtx, uid: str, body: Any) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    p = library(sim, uid).get(pid)
    if p is None:
        return _missing(ctx, pid)
    if "name" in b:
        p.name = _str(ctx, b, "name", False)
    if "note" in b:
        p.note = _str(ctx, b, "note", False)
    return {"code": 200, "personId": pid}


def get_person(sim: Sim, ctx: RequestCtx, uid: str, body: Any) -> dict[str, Any]:
    pid = _str(ctx, _obj(ctx, body), "personId")
    p = library(sim, uid).get(pid)
    if p is None:
        return _missing(ctx, pid)
    return {
        "code": 200,
        "personId": pid,
        "name": p.name,
        "note": p.note,
        "groupIds": list(p.groups),
        "faceIds": list(p.faces),
    }


def add_groups(sim: Sim, ctx: RequestCtx, uid: str, body: Any) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    groups = _strs(ctx, b, "groupIds")
    p = library(sim, uid).get(pid)
    if p is None:
        return _missing(ctx, pid)
    p.groups.extend(g for g in groups if g not in p.groups)
    return {"code": 200, "personId": pid, "groupIds": list(p.groups)}


def delete_groups(sim: Sim, ctx: RequestCtx, uid: str, body: Any) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    groups = _strs(ctx, b, "groupIds")
    p = library(sim, uid).get(pid)
    if p is None:
        return _missing(ctx, pid)
    p.groups = [g for g in p.groups if g not in groups]
    return {"code": 200, "personId": pid, "groupIds": list(p.groups)}


async def add_faces(
    sim: Sim, ctx: RequestCtx, credential: str, uid: str, body: Any, limits: Limits
) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    urls = _strs(ctx, b, "urls")
    _str(ctx, b, "bizType", False)
    p = library(sim, uid).get(pid)
    if p is None:
        return _missing(ctx, pid)
    target = Target("aliyun", "add_faces", credential)
    items = []
    for url in urls:
        got = await load(sim, ctx, url, target, limits)
        if got.ref is None or len(p.faces) >= limits.max_face_urls:
            if got.ref is not None:
                ctx.note(f"person {pid!r} has {limits.max_face_urls} faces already: {url[:120]!r} not added")
            items.append({"faceId": "", "success": False, "url": url})
            continue
        s = record(ctx, got.resolution(sim, target))
        face_id = str(sim.rng.randint(10**15, 10**16 - 1))
        p.faces[face_id] = FaceImage(face_id, url, got.ref.sha256, _names(s))
        items.append({"faceId": face_id, "success": True, "url": url})
    return {"code": 200, "personId": pid, "groupId": list(p.groups), "faceImageItems": items}


def delete_faces(sim: Sim, ctx: RequestCtx, uid: str, body: Any) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    ids = _strs(ctx, b, "faceIds")
    p = library(sim, uid).get(pid)
    if p is None:
        return _missing(ctx, pid)
    for fid in ids:
        p.faces.pop(fid, None)
    return {"code": 200, "personId": pid, "faceIds": list(p.faces)}


def get_faces(sim: Sim, ctx: RequestCtx, uid: str, body: Any) -> dict[str, Any]:
    pid = _str(ctx, _obj(ctx, body), "personId")
    p = library(sim, uid).get(pid)
    if p is None:
        return _missing(ctx, pid)
    return {
        "code": 200,
        "personId": pid,
        "faceItems": [{"faceId": f.face_id, "url": f.url} for f in p.faces.values()],
    }


def get_groups(sim: Sim, ctx: RequestCtx, uid: str, body: Any) -> dict[str, Any]:
    if body is not None:
        _obj(ctx, body)
    groups: list[str] = []
    for p in library(sim, uid).values():
        groups.extend(g for g in p.groups if g not in groups)
    return {"code": 200, "groupIds": groups}


def get_persons(sim: Sim, ctx: RequestCtx, uid: str, body: Any) -> dict[str, Any]:
    gid = _str(ctx, _obj(ctx, body), "groupId")
    persons = [p for p in library(sim, uid).values() if gid in p.groups]
    return {
        "code": 200,
        "groupId": gid,
        "personIds": [p.person_id for p in persons],
        "persons": [{"personId": p.person_id, "name": p.name} for p in persons],
    }


async def search_person(
    sim: Sim, ctx: RequestCtx, credential: str, uid: str, body: Any, limits: Limits
) -> dict[str, Any]:
    """Body ``{groupId, url}`` (inferred): the persons of the group matching the image."""
    b = _obj(ctx, body)
    gid = _str(ctx, b, "groupId")
    url = _str(ctx, b, "url")
    target = Target("aliyun", "search_person", credential)
    got = await load(sim, ctx, url, target, limits)
    if got.ref is None:
        return {"code": got.code, "msg": GREEN_MESSAGES[got.code], "groupId": gid}
    s = record(ctx, got.resolution(sim, target))
    found = search(sim, uid, gid, got.ref, s)
    return {
        "code": 200,
        "groupId": gid,
        "persons": [{"personId": m.person_id, "name": m.name, "rate": m.rate} for m in found],
    }


def _names(s: Scenario) -> tuple[str, ...]:
    return tuple(f.identity.name for f in s.faces if f.identity is not None)


def search(sim: Sim, uid: str, group_id: str | None, ref: ContentRef, s: Scenario) -> list[Match]:
    """The group's persons whose faces match the image, best first, at most 5."""
    if not group_id:
        return []
    best: dict[str, Match] = {}
    names = {f.identity.name: rate(f.probability) for f in s.faces if f.identity is not None}
    custom = {
        f.identity.id: rate(f.probability)
        for f in s.faces
        if f.identity is not None and f.identity.kind == "custom" and f.identity.id
    }
    for p in library(sim, uid).values():
        if group_id not in p.groups:
            continue
        scores = [custom[p.person_id]] if p.person_id in custom else []
        for face in p.faces.values():
            if ref.sha256 is not None and face.sha256 == ref.sha256:
                scores.append(SAME_IMAGE_RATE)
            scores.extend(names[n] for n in face.names if n in names)
        if scores:
            best[p.person_id] = Match(p.person_id, p.name, max(scores))
    return sorted(best.values(), key=lambda m: (-m.rate, m.person_id))[:TOP]
