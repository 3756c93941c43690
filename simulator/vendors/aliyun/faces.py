"""The custom face library (自定义人脸库), per account (uid), and its search for ``sface-n``. No aiohttp.

Persons hold faces and belong to groups; a group exists while a person is in it. Bodies and answers
past AddFaces and GetPerson are inferred from the API's naming (docs/aliyun.md). Every answer's
``data`` is an object with its own ``code``; a person that does not exist (or already exists, for
AddPerson) is ``data.code`` 404 / 400 with ``msg``, the request itself still ``code`` 200. Malformed
bodies are the top-level 400.

Limits (``vendors.aliyun.limits``). Documented: at most 20 faces per person (``max_face_urls``, doc
70422; the 21st URL of AddFaces is ``success: false``), 100 groups per account (``max_groups``, docs
70418 and 70427: an AddPerson or AddGroups that would create the 101st is ``data.code`` 400 and changes
nothing), personId and groupId of letters, digits, ``_`` and ``-``, at most 32 characters
(``max_id_length``; else the top-level 400). Inferred: 1,000 persons per account (``max_persons``: the
next AddPerson is ``data.code`` 400), 100 ids or URLs in one request (``max_ids``: more is the
top-level 400), name and note at most 256 characters (``max_person_text``: top-level 400).

Every operation costs what its answer holds, never the library's size: a person's groups are an
ordered set, and the library indexes group members, face content hashes and face identity names.
GetGroups lists groups in the order they were created (a group that empties and comes back goes last).

A face image's identity: the content hash of what its URL resolves to, and the identity names of the
faces in its scenario. An image scanned with ``sface-n`` (or SearchPerson) matches a person of the
group when it has the same content hash as one of the person's faces (rate 99.9), when its scenario
shows a face with the same identity name (rate = that face's probability), or when its scenario
has a ``custom`` identity whose ``id`` is the personId (rate likewise). Top 5, best first.
"""

from __future__ import annotations

import heapq
import re
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
ID_CHARS = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class FaceImage:
    face_id: str
    url: str
    sha256: str | None
    names: tuple[str, ...]


@dataclass
class Person:
    person_id: str
    #: when the person was added (GetPersons lists a group's persons in this order)
    seq: int
    name: str = ""
    note: str = ""
    #: group ids in the order they were added (a dict as an ordered set)
    groups: dict[str, None] = field(default_factory=dict)
    faces: dict[str, FaceImage] = field(default_factory=dict)


def _count(index: dict[str, dict[str, int]], key: str, pid: str, step: int) -> None:
    holders = index.setdefault(key, {})
    n = holders.get(pid, 0) + step
    if n > 0:
        holders[pid] = n
        return
    holders.pop(pid, None)
    if not holders:
        del index[key]


@dataclass
class Library:
    """One account's persons, with indexes kept in step by the methods below."""

    persons: dict[str, Person] = field(default_factory=dict)
    #: groupId -> its members (personId -> None), groups in the order they were created
    groups: dict[str, dict[str, None]] = field(default_factory=dict)
    #: face content hash / identity name -> personId -> how many of the person's faces have it
    by_sha: dict[str, dict[str, int]] = field(default_factory=dict)
    by_name: dict[str, dict[str, int]] = field(default_factory=dict)
    added: int = 0

    def add(self, pid: str, name: str, note: str) -> Person:
        self.added += 1
        p = self.persons[pid] = Person(pid, self.added, name, note)
        return p

    def join(self, p: Person, group_ids: list[str]) -> None:
        for g in group_ids:
            if g not in p.groups:
                p.groups[g] = None
                self.groups.setdefault(g, {})[p.person_id] = None

    def leave(self, p: Person, group_ids: list[str]) -> None:
        for g in group_ids:
            if g in p.groups:
                del p.groups[g]
                members = self.groups[g]
                del members[p.person_id]
                if not members:
                    del self.groups[g]

    def add_face(self, p: Person, face: FaceImage) -> None:
        p.faces[face.face_id] = face
        self._index(p.person_id, face, 1)

    def drop_face(self, p: Person, face_id: str) -> None:
        face = p.faces.pop(face_id, None)
        if face is not None:
            self._index(p.person_id, face, -1)

    def drop(self, p: Person) -> None:
        self.leave(p, list(p.groups))
        for face_id in list(p.faces):
            self.drop_face(p, face_id)
        del self.persons[p.person_id]

    def _index(self, pid: str, face: FaceImage, step: int) -> None:
        if face.sha256 is not None:
            _count(self.by_sha, face.sha256, pid, step)
        for n in set(face.names):
            _count(self.by_name, n, pid, step)

    def members(self, group_id: str) -> list[Person]:
        """The group's persons in the order they were added to the library."""
        return sorted((self.persons[m] for m in self.groups.get(group_id, ())), key=lambda p: p.seq)


def libraries(sim: Sim) -> dict[str, Library]:
    libs: dict[str, Library] = sim.state.vendor_state("aliyun").setdefault("faces", {})
    return libs


def library(sim: Sim, uid: str) -> Library:
    """The account's library, created empty on first use."""
    return libraries(sim).setdefault(uid, Library())


def lookup(sim: Sim, uid: str) -> Library:
    """The account's library, or an empty one (not stored) if it has none: reads create nothing."""
    return libraries(sim).get(uid) or Library()


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


def _text(ctx: RequestCtx, body: dict[str, Any], key: str, limits: Limits) -> str:
    v = _str(ctx, body, key, False)
    if len(v) > limits.max_person_text:
        raise bad_request(
            ctx, f"{key} is {len(v)} characters, at most {limits.max_person_text} (limits.max_person_text)"
        )
    return v


def _strs(ctx: RequestCtx, body: dict[str, Any], key: str, limits: Limits) -> list[str]:
    """A non-empty array of non-empty strings, at most ``limits.max_ids``, without repeats."""
    v = body.get(key)
    if not isinstance(v, list) or not v:
        raise bad_request(ctx, f"{key} must be a non-empty array of strings")
    if len(v) > limits.max_ids:
        raise bad_request(ctx, f"{key} has {len(v)} items, at most {limits.max_ids} (limits.max_ids)")
    if not all(isinstance(x, str) and x for x in v):
        raise bad_request(ctx, f"{key} must be a non-empty array of strings")
    return list(dict.fromkeys(v))


def _valid_id(ctx: RequestCtx, key: str, value: str, limits: Limits) -> str:
    if len(value) > limits.max_id_length or not ID_CHARS.fullmatch(value):
        raise bad_request(
            ctx,
            f"{key} {value[:64]!r} is not 1-{limits.max_id_length} letters, digits, '_' or '-' "
            "(limits.max_id_length)",
        )
    return value


def _missing(ctx: RequestCtx, person_id: str) -> dict[str, Any]:
    ctx.note(f"person {person_id[:64]!r} is not in this account's face library")
    return {"code": 404, "msg": GREEN_MESSAGES[404], "personId": person_id}


def _refused(ctx: RequestCtx, person_id: str, why: str) -> dict[str, Any]:
    ctx.note(f"400 BAD_REQUEST (data.code): {why}")
    return {"code": 400, "msg": GREEN_MESSAGES[400], "personId": person_id}


def _too_many_groups(ctx: RequestCtx, lib: Library, groups: list[str], limits: Limits) -> str | None:
    created = sum(1 for g in groups if g not in lib.groups)
    if len(lib.groups) + created <= limits.max_groups:
        return None
    return (
        f"{created} new group(s) on top of the account's {len(lib.groups)}: "
        f"at most {limits.max_groups} (limits.max_groups); nothing changed"
    )


def add_person(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _valid_id(ctx, "personId", _str(ctx, b, "personId"), limits)
    groups = [_valid_id(ctx, "groupIds", g, limits) for g in _strs(ctx, b, "groupIds", limits)]
    name, note = _text(ctx, b, "name", limits), _text(ctx, b, "note", limits)
    lib = library(sim, uid)
    if pid in lib.persons:
        ctx.note(f"person {pid!r} exists already")
        return {"code": 400, "msg": GREEN_MESSAGES[400], "personId": pid}
    if len(lib.persons) >= limits.max_persons:
        return _refused(
            ctx,
            pid,
            f"the account has {len(lib.persons)} persons, at most {limits.max_persons} (limits.max_persons)",
        )
    too_many = _too_many_groups(ctx, lib, groups, limits)
    if too_many is not None:
        return _refused(ctx, pid, too_many)
    p = lib.add(pid, name, note)
    lib.join(p, groups)
    return {"code": 200, "personId": pid, "groupIds": list(p.groups)}


def delete_person(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    pid = _str(ctx, _obj(ctx, body), "personId")
    lib = lookup(sim, uid)
    p = lib.persons.get(pid)
    if p is None:
        return _missing(ctx, pid)
    lib.drop(p)
    return {"code": 200, "personId": pid}


def set_person(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    name = _text(ctx, b, "name", limits) if "name" in b else None
    note = _text(ctx, b, "note", limits) if "note" in b else None
    p = lookup(sim, uid).persons.get(pid)
    if p is None:
        return _missing(ctx, pid)
    if name is not None:
        p.name = name
    if note is not None:
        p.note = note
    return {"code": 200, "personId": pid}


def get_person(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    pid = _str(ctx, _obj(ctx, body), "personId")
    p = lookup(sim, uid).persons.get(pid)
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


def add_groups(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    groups = [_valid_id(ctx, "groupIds", g, limits) for g in _strs(ctx, b, "groupIds", limits)]
    lib = lookup(sim, uid)
    p = lib.persons.get(pid)
    if p is None:
        return _missing(ctx, pid)
    too_many = _too_many_groups(ctx, lib, groups, limits)
    if too_many is not None:
        return _refused(ctx, pid, too_many)
    lib.join(p, groups)
    return {"code": 200, "personId": pid, "groupIds": list(p.groups)}


def delete_groups(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    groups = _strs(ctx, b, "groupIds", limits)
    lib = lookup(sim, uid)
    p = lib.persons.get(pid)
    if p is None:
        return _missing(ctx, pid)
    lib.leave(p, groups)
    return {"code": 200, "personId": pid, "groupIds": list(p.groups)}


async def add_faces(
    sim: Sim, ctx: RequestCtx, credential: str, uid: str, body: Any, limits: Limits
) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    urls = _strs(ctx, b, "urls", limits)
    for i, url in enumerate(urls):
        if len(url) > limits.max_url:
            raise bad_request(ctx, f"urls[{i}] is longer than {limits.max_url} (limits.max_url)")
    _str(ctx, b, "bizType", False)
    lib = lookup(sim, uid)
    p = lib.persons.get(pid)
    if p is None:
        return _missing(ctx, pid)
    target = Target("aliyun", "add_faces", credential)
    items = []
    for url in urls:
        if len(p.faces) >= limits.max_face_urls:
            ctx.note(f"person {pid!r} has {limits.max_face_urls} faces already: {url[:120]!r} not added")
            items.append({"faceId": "", "success": False, "url": url})
            continue
        got = await load(sim, ctx, url, target, limits)
        if got.ref is not None and lib.persons.get(pid) is not p:
            ctx.note(f"person {pid!r} was deleted while {url[:120]!r} loaded: not added")
        elif got.ref is not None and len(p.faces) >= limits.max_face_urls:
            ctx.note(
                f"person {pid!r} reached {limits.max_face_urls} faces while {url[:120]!r} loaded: not added"
            )
        if got.ref is None or lib.persons.get(pid) is not p or len(p.faces) >= limits.max_face_urls:
            items.append({"faceId": "", "success": False, "url": url})
            continue
        s = record(ctx, got.resolution(sim, target))
        face_id = str(sim.rng.randint(10**15, 10**16 - 1))
        lib.add_face(p, FaceImage(face_id, url, got.ref.sha256, _names(s)))
        items.append({"faceId": face_id, "success": True, "url": url})
    return {"code": 200, "personId": pid, "groupId": list(p.groups), "faceImageItems": items}


def delete_faces(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    ids = _strs(ctx, b, "faceIds", limits)
    lib = lookup(sim, uid)
    p = lib.persons.get(pid)
    if p is None:
        return _missing(ctx, pid)
    for fid in ids:
        lib.drop_face(p, fid)
    return {"code": 200, "personId": pid, "faceIds": list(p.faces)}


def get_faces(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    pid = _str(ctx, _obj(ctx, body), "personId")
    p = lookup(sim, uid).persons.get(pid)
    if p is None:
        return _missing(ctx, pid)
    return {
        "code": 200,
        "personId": pid,
        "faceItems": [{"faceId": f.face_id, "url": f.url} for f in p.faces.values()],
    }


def get_groups(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    if body is not None:
        _obj(ctx, body)
    return {"code": 200, "groupIds": list(lookup(sim, uid).groups)}


def get_persons(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    gid = _str(ctx, _obj(ctx, body), "groupId")
    persons = lookup(sim, uid).members(gid)
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
    """The group's persons whose faces match the image, best first, at most 5. Looks only at the
    persons the indexes name for this image, not at the whole group."""
    if not group_id:
        return []
    lib = lookup(sim, uid)
    members = lib.groups.get(group_id)
    if not members:
        return []
    best: dict[str, float] = {}

    def offer(pid: str, r: float) -> None:
        if pid in members and r > best.get(pid, -1.0):
            best[pid] = r

    custom = {
        f.identity.id: rate(f.probability)
        for f in s.faces
        if f.identity is not None and f.identity.kind == "custom" and f.identity.id
    }
    for pid, r in custom.items():
        offer(pid, r)
    if ref.sha256 is not None:
        for pid in lib.by_sha.get(ref.sha256, ()):
            offer(pid, SAME_IMAGE_RATE)
    names = {f.identity.name: rate(f.probability) for f in s.faces if f.identity is not None}
    for n, r in names.items():
        for pid in lib.by_name.get(n, ()):
            offer(pid, r)
    found = (Match(pid, lib.persons[pid].name, r) for pid, r in best.items())
    return heapq.nsmallest(TOP, found, key=lambda m: (-m.rate, m.person_id))
