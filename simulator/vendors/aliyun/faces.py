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

GetGroups lists groups in the order they were created (a group that empties and comes back goes last).

A face image's identity: the content hash of what its URL resolves to, and the identity names of the
faces in its scenario. An image scanned with ``sface-n`` (or SearchPerson) matches a person of the
group when it has the same content hash as one of the person's faces (rate 99.9), when its scenario
shows a face with the same identity name (rate = that face's probability), or when its scenario
has a ``custom`` identity whose ``id`` is the personId (rate likewise). Top 5, best first.

**In the store** (``FaceLib``; shared by every instance using the same store), per account:

- ``aliyun:faces:<uid>:registry``, one record (``registry``): the account's groups with their creation
  order and member counts, its number of persons, and the AddPersons in flight. Every change that
  creates, fills or empties a group, or adds or removes a person, is one ``update`` of it: the caps
  (100 groups, 1,000 persons) hold exactly whatever the number of instances. It stays small: at
  most ``max_groups`` groups;
- ``aliyun:faces:<uid>:persons``, one record per person (its groups and its faces: at most 20);
- ``aliyun:faces:<uid>:groups``, one record per group: its members (personId -> [the person's order
  of addition, count]), and ``gen``, the group's creation number in the registry (a group that
  empties and comes back is a new generation: a late write for the old one changes nothing);
- ``aliyun:faces:<uid>:index``, ``BUCKETS`` records per index (face content hash, identity name),
  each a fixed bucket of the index (value -> personId -> how many of the person's faces have it).

Every operation costs what it touches, never the library's size: a person's record and those of the
groups it joins or leaves; a search reads the group's record, one bucket per identity of the image
and the records of the persons it answers with. A person's record is the truth; a group's members
and the indexes are counted before a person's record gains a group or a face (and the count given
back if it did not) and after it loses one, so they name at least the persons concerned at any time
and exactly them at rest. A person listed or found is read and checked.

Records that are created once and never deleted (the registry, index buckets) are created by the
instance that first claims them (``Store.claim``); a group's record is created by the instance whose
registry update created the group. Others wait for that record (``CREATE_TRIES``). The functions
given to ``Table.update`` record their decision in a ``Verdict``: that of the run that was applied
(the last one).
"""

from __future__ import annotations

import asyncio
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.context import RequestCtx
from simulator.scenarios.matcher import ContentRef, Target, record
from simulator.scenarios.model import Scenario
from simulator.store import Record, StoreUnavailable, Table
from simulator.vendors.aliyun.errors import GREEN_MESSAGES, bad_request
from simulator.vendors.aliyun.loading import load
from simulator.vendors.aliyun.policy import Limits
from simulator.vendors.aliyun.scenes import Match, rate

if TYPE_CHECKING:
    from simulator.sim import Sim

SAME_IMAGE_RATE = 99.9
TOP = 5
ID_CHARS = re.compile(r"[A-Za-z0-9_-]+")

#: accounts with a face library (``aliyun:faces:accounts``, uid -> ``{"uid": uid}``), for the admin
#: listing; past it the oldest account is no longer listed (its library stays)
ACCOUNTS = "aliyun:faces:accounts"
MAX_ACCOUNTS = 10_000
#: records per index (face content hash, identity name) and per account
BUCKETS = 256
#: claims of once-created records are kept this long (simulator seconds: never, in practice)
FOREVER_S = 1e9
#: an AddPerson in flight holds its personId this long at most (an instance lost mid-request)
ADDING_S = 60.0
#: how long an instance waits for a record another instance is creating: tries, and seconds between
CREATE_TRIES = 200
CREATE_WAIT_S = 0.005
_GONE = object()


def _bucket(kind: str, value: str) -> str:
    return f"{kind}:{zlib.crc32(value.encode('utf-8', 'surrogatepass')) % BUCKETS}"


def _empty_registry(uid: str) -> Record:
    """``groups``: groupId -> [creation number, members]; ``adding``: personId -> until when an
    AddPerson holds it; ``next``: the last creation number given (groups and persons share it)."""
    return {"uid": uid, "next": 0, "persons": 0, "groups": {}, "adding": {}}


@dataclass
class Verdict:
    """What the last run of an ``update`` function decided (the run that was applied)."""

    ok: bool = False
    why: str = ""
    seq: int = 0
    #: groupId -> its creation number, for the groups the update touched
    gens: dict[str, int] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    record: Record | None = None
    items: list[Any] = field(default_factory=list)


class FaceLib:
    """One account's face library in the store (see the module's docstring for the layout)."""

    def __init__(self, sim: Sim, uid: str, limits: Limits) -> None:
        self.sim = sim
        self.uid = uid
        self.limits = limits
        prefix = f"aliyun:faces:{uid}"
        self.space = prefix
        store = sim.store
        self.registry = store.table(f"{prefix}:registry", 1)
        self.persons = store.table(f"{prefix}:persons", limits.max_persons)
        #: a group's record of an old generation may linger until its deletion lands
        self.groups = store.table(f"{prefix}:groups", 2 * limits.max_groups)
        self.buckets = store.table(f"{prefix}:index", 2 * BUCKETS)

    # --- creating records ----------------------------------------------------------------------

    async def _upsert(self, table: Table, key: str, fn: Callable[[Record], Record], empty: Record) -> Record:
        """``fn`` applied to the record, created from ``empty`` by the first instance to claim it. Only
        for records that are never deleted (the registry, index buckets)."""
        for _ in range(CREATE_TRIES):
            rec = await table.update(key, fn)
            if rec is not None:
                return rec
            now = self.sim.clock.now()
            if await self.sim.store.claim(self.space, key, FOREVER_S, now):
                if table is self.registry:
                    accounts = self.sim.store.table(ACCOUNTS, MAX_ACCOUNTS)
                    await accounts.put(self.uid, {"uid": self.uid}, now)
                new = fn(empty)
                await table.put(key, new, now)
                return new
            await asyncio.sleep(CREATE_WAIT_S)
        raise StoreUnavailable(f"{table.name} {key!r} was claimed but never created")

    async def update_registry(self, fn: Callable[[Record], Record]) -> Record:
        return await self._upsert(self.registry, "registry", fn, _empty_registry(self.uid))

    # --- groups --------------------------------------------------------------------------------

    async def group_ids(self) -> list[str]:
        reg = await self.registry.get("registry")
        if reg is None:
            return []
        groups: dict[str, list[int]] = reg["groups"]
        return sorted(groups, key=lambda g: groups[g][0])

    def reserve(
        self, v: Verdict, groups: list[str], now: float, person: str | None = None
    ) -> Callable[[Record], Record]:
        """A registry update counting one more member in each of ``groups`` (creating those that do
        not exist) and, with ``person``, one more person held by an AddPerson in flight; or, past
        ``max_groups`` or ``max_persons``, changing nothing (``v.why``)."""
        lim = self.limits

        def fn(reg: Record) -> Record:
            v.ok, v.gens, v.created = False, {}, []
            have: dict[str, list[int]] = reg["groups"]
            if person is not None:
                adding: dict[str, float] = reg["adding"]
                if adding.get(person, 0.0) > now:
                    v.why = "exists"
                    return reg
                if reg["persons"] >= lim.max_persons:
                    v.why = (
                        f"the account has {reg['persons']} persons, at most {lim.max_persons} "
                        "(limits.max_persons)"
                    )
                    return reg
            created = sum(1 for g in groups if g not in have)
            if len(have) + created > lim.max_groups:
                v.why = (
                    f"{created} new group(s) on top of the account's {len(have)}: "
                    f"at most {lim.max_groups} (limits.max_groups); nothing changed"
                )
                return reg
            n = reg["next"]
            for g in groups:
                entry = have.get(g)
                if entry is None:
                    n += 1
                    have[g] = [n, 1]
                    v.created.append(g)
                else:
                    have[g] = [entry[0], entry[1] + 1]
                v.gens[g] = have[g][0]
            if person is not None:
                n += 1
                v.seq = n
                reg["persons"] += 1
                reg["adding"] = {p: t for p, t in reg["adding"].items() if t > now}
                reg["adding"][person] = now + ADDING_S
            reg["next"] = n
            v.ok = True
            return reg

        return fn

    def release(
        self, v: Verdict, groups: Iterable[str], persons: int = 0, adding: str | None = None
    ) -> Callable[[Record], Record]:
        """A registry update counting one member less in each of ``groups`` (those left empty are
        gone: ``v.removed``), ``persons`` persons less, and freeing the AddPerson of ``adding``."""

        def fn(reg: Record) -> Record:
            v.gens, v.removed = {}, []
            have: dict[str, list[int]] = reg["groups"]
            for g in groups:
                entry = have.pop(g, None)
                if entry is None:
                    continue
                v.gens[g] = entry[0]
                if entry[1] > 1:
                    have[g] = [entry[0], entry[1] - 1]
                else:
                    v.removed.append(g)
            reg["persons"] = max(0, reg["persons"] - persons)
            if adding is not None:
                reg["adding"].pop(adding, None)
            return reg

        return fn

    async def create_groups(self, v: Verdict) -> None:
        """The groups ``v`` created: their records, empty (this instance created them)."""
        now = self.sim.clock.now()
        for g in v.created:
            await self.groups.put(g, {"gen": v.gens[g], "members": {}}, now)

    async def drop_groups(self, v: Verdict, pid: str, groups: Iterable[str], *, counted: bool = True) -> None:
        """After ``release``: the records of the groups ``v.removed`` deleted, and, when ``pid`` was
        counted in the records of ``groups`` (``join_groups``), one count of it less in the others."""
        removed = set(v.removed)
        for g in groups:
            gen = v.gens.get(g)
            if gen is None:
                continue
            if g in removed:
                await self.groups.update(g, _unless_gen(gen))
            elif counted:
                await self.groups.update(g, _member(pid, 0, gen, -1))

    async def join_groups(self, pid: str, seq: int, gens: dict[str, int]) -> None:
        """One count more of ``pid`` (added ``seq``-th) in the records of the groups ``gens`` names
        (with their generation), before the person's record says it joined them: a group's members
        name at least the persons in it (a count not matched by a join is given back). A record its
        creator never wrote (an instance lost between the two) is written here after the wait."""
        for g, gen in gens.items():
            for _ in range(CREATE_TRIES):
                got = await self.groups.update(g, _member(pid, seq, gen, 1))
                if got is not None and got["gen"] == gen:
                    break
                reg = await self.registry.get("registry")
                entry = None if reg is None else reg["groups"].get(g)
                if entry is None or entry[0] != gen:
                    break  # that generation is gone (not while this reservation holds it: defensive)
                await asyncio.sleep(CREATE_WAIT_S)
            else:
                await self.groups.put(g, {"gen": gen, "members": {pid: [seq, 1]}}, self.sim.clock.now())

    # --- the index -----------------------------------------------------------------------------

    async def index(self, pid: str, faces: Iterable[Record], step: int) -> None:
        """Count ``faces`` of ``pid`` (``step`` 1) or discount them (-1) in the content-hash and
        identity-name indexes: one update per bucket touched."""
        changes: dict[str, list[str]] = {}
        for f in faces:
            if f["sha256"] is not None:
                changes.setdefault(_bucket("sha", f["sha256"]), []).append(f["sha256"])
            for n in set(f["names"]):
                changes.setdefault(_bucket("name", n), []).append(n)
        for key, values in changes.items():
            fn = _counted(pid, values, step)
            if step > 0:
                await self._upsert(self.buckets, key, fn, {"keys": {}})
            else:
                await self.buckets.update(key, fn)

    async def holders(
        self, kind: str, values: Iterable[str], cache: dict[str, Record | None]
    ) -> dict[str, dict[str, int]]:
        """value -> personId -> faces, from the index ``kind`` (each bucket read once per ``cache``)."""
        out: dict[str, dict[str, int]] = {}
        for value in values:
            key = _bucket(kind, value)
            if key not in cache:
                cache[key] = await self.buckets.get(key)
            rec = cache[key]
            found = None if rec is None else rec["keys"].get(value)
            if found:
                out[value] = found
        return out


def _member(pid: str, seq: int, gen: int, step: int) -> Callable[[Record], Record]:
    """``step`` counts of ``pid`` (added ``seq``-th) more in a group's record of generation ``gen``."""

    def fn(r: Record) -> Record:
        if r["gen"] == gen:
            members: dict[str, list[int]] = r["members"]
            old = members.get(pid)
            n = (old[1] if old is not None else 0) + step
            if n > 0:
                members[pid] = [seq if old is None or step > 0 else old[0], n]
            else:
                members.pop(pid, None)
        return r

    return fn


def _unless_gen(gen: int) -> Callable[[Record], Record | None]:
    """Delete the group's record of generation ``gen`` (a newer one stays)."""

    def fn(r: Record) -> Record | None:
        return None if r["gen"] == gen else r

    return fn


def _counted(pid: str, values: list[str], step: int) -> Callable[[Record], Record]:
    def fn(r: Record) -> Record:
        keys: dict[str, dict[str, int]] = r["keys"]
        for value in values:
            holders = keys.setdefault(value, {})
            n = holders.get(pid, 0) + step
            if n > 0:
                holders[pid] = n
            else:
                holders.pop(pid, None)
            if not holders:
                del keys[value]
        return r

    return fn


async def libraries(sim: Sim, limits: Limits, uid: str | None = None) -> list[FaceLib]:
    """The accounts with a face library (``uid``: that one only, if it has one)."""
    uids = (
        [uid]
        if uid is not None
        else [r["uid"] for r in await sim.store.table(ACCOUNTS, MAX_ACCOUNTS).values()]
    )
    out = []
    for u in uids:
        lib = FaceLib(sim, u, limits)
        if await lib.registry.get("registry") is not None:
            out.append(lib)
    return out


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


def _exists(ctx: RequestCtx, person_id: str) -> dict[str, Any]:
    ctx.note(f"person {person_id!r} exists already")
    return {"code": 400, "msg": GREEN_MESSAGES[400], "personId": person_id}


def _fail(url: str) -> dict[str, Any]:
    return {"faceId": "", "success": False, "url": url}


# --- person record updates (each records what its last run did in a Verdict) ------------------


def _taking(v: Verdict) -> Callable[[Record], Record | None]:
    def fn(r: Record) -> Record | None:
        v.record = r
        return None

    return fn


def _renaming(name: str | None, note: str | None) -> Callable[[Record], Record]:
    def fn(r: Record) -> Record:
        if name is not None:
            r["name"] = name
        if note is not None:
            r["note"] = note
        return r

    return fn


def _joining(v: Verdict, groups: list[str], seq: int) -> Callable[[Record], Record]:
    def fn(r: Record) -> Record:
        have: dict[str, None] = r["groups"]
        v.items = [g for g in groups if g not in have] if r["seq"] == seq else []
        for g in v.items:
            have[g] = None
        return r

    return fn


def _leaving(v: Verdict, groups: list[str]) -> Callable[[Record], Record]:
    def fn(r: Record) -> Record:
        have: dict[str, None] = r["groups"]
        v.items = [g for g in groups if have.pop(g, _GONE) is not _GONE]
        return r

    return fn


def _adding_face(v: Verdict, seq: int, face_id: str, face: Record, most: int) -> Callable[[Record], Record]:
    def fn(r: Record) -> Record:
        v.ok = r["seq"] == seq and len(r["faces"]) < most
        if v.ok:
            r["faces"][face_id] = face
        return r

    return fn


def _dropping_faces(v: Verdict, face_ids: list[str]) -> Callable[[Record], Record]:
    def fn(r: Record) -> Record:
        faces: dict[str, Record] = r["faces"]
        v.items = [f for f in (faces.pop(i, None) for i in face_ids) if f is not None]
        return r

    return fn


# --- operations ------------------------------------------------------------------------------


async def add_person(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _valid_id(ctx, "personId", _str(ctx, b, "personId"), limits)
    groups = [_valid_id(ctx, "groupIds", g, limits) for g in _strs(ctx, b, "groupIds", limits)]
    name, note = _text(ctx, b, "name", limits), _text(ctx, b, "note", limits)
    lib = FaceLib(sim, uid, limits)
    if await lib.persons.get(pid) is not None:
        return _exists(ctx, pid)
    now = sim.clock.now()
    v = Verdict()
    await lib.update_registry(lib.reserve(v, groups, now, person=pid))
    if not v.ok:
        return _exists(ctx, pid) if v.why == "exists" else _refused(ctx, pid, v.why)
    await lib.create_groups(v)
    if await lib.persons.get(pid) is not None:  # added by another instance since the first look
        back = Verdict()
        await lib.update_registry(lib.release(back, groups, persons=1, adding=pid))
        await lib.drop_groups(back, pid, groups, counted=False)
        return _exists(ctx, pid)
    person = {
        "personId": pid,
        "seq": v.seq,
        "name": name,
        "note": note,
        "groups": dict.fromkeys(groups),
        "faces": {},
    }
    await lib.join_groups(pid, v.seq, v.gens)
    await lib.persons.put(pid, person, now)
    await lib.update_registry(lib.release(Verdict(), (), adding=pid))
    return {"code": 200, "personId": pid, "groupIds": list(groups)}


async def delete_person(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    pid = _str(ctx, _obj(ctx, body), "personId")
    lib = FaceLib(sim, uid, limits)
    v = Verdict()
    await lib.persons.update(pid, _taking(v))
    p = v.record
    if p is None:
        return _missing(ctx, pid)
    groups = list(p["groups"])
    back = Verdict()
    await lib.update_registry(lib.release(back, groups, persons=1))
    await lib.drop_groups(back, pid, groups)
    await lib.index(pid, p["faces"].values(), -1)
    return {"code": 200, "personId": pid}


async def set_person(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    name = _text(ctx, b, "name", limits) if "name" in b else None
    note = _text(ctx, b, "note", limits) if "note" in b else None
    if await FaceLib(sim, uid, limits).persons.update(pid, _renaming(name, note)) is None:
        return _missing(ctx, pid)
    return {"code": 200, "personId": pid}


async def get_person(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    pid = _str(ctx, _obj(ctx, body), "personId")
    p = await FaceLib(sim, uid, limits).persons.get(pid)
    if p is None:
        return _missing(ctx, pid)
    return {
        "code": 200,
        "personId": pid,
        "name": p["name"],
        "note": p["note"],
        "groupIds": list(p["groups"]),
        "faceIds": list(p["faces"]),
    }


async def add_groups(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    groups = [_valid_id(ctx, "groupIds", g, limits) for g in _strs(ctx, b, "groupIds", limits)]
    lib = FaceLib(sim, uid, limits)
    p = await lib.persons.get(pid)
    if p is None:
        return _missing(ctx, pid)
    have: dict[str, None] = p["groups"]
    new = [g for g in groups if g not in have]
    if not new:
        return {"code": 200, "personId": pid, "groupIds": list(have)}
    v = Verdict()
    await lib.update_registry(lib.reserve(v, new, sim.clock.now()))
    if not v.ok:
        return _refused(ctx, pid, v.why)
    await lib.create_groups(v)
    await lib.join_groups(pid, p["seq"], v.gens)
    j = Verdict()
    got = await lib.persons.update(pid, _joining(j, new, p["seq"]))
    joined = set(j.items) if got is not None else set()
    extra = [g for g in new if g not in joined]  # joined meanwhile by another request, or person gone
    if extra:
        back = Verdict()
        await lib.update_registry(lib.release(back, extra))
        await lib.drop_groups(back, pid, extra)
    if got is None:
        return _missing(ctx, pid)
    return {"code": 200, "personId": pid, "groupIds": list(got["groups"])}


async def delete_groups(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    groups = _strs(ctx, b, "groupIds", limits)
    lib = FaceLib(sim, uid, limits)
    v = Verdict()
    got = await lib.persons.update(pid, _leaving(v, groups))
    if got is None:
        return _missing(ctx, pid)
    if v.items:
        back = Verdict()
        await lib.update_registry(lib.release(back, v.items))
        await lib.drop_groups(back, pid, v.items)
    return {"code": 200, "personId": pid, "groupIds": list(got["groups"])}


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
    lib = FaceLib(sim, uid, limits)
    p = await lib.persons.get(pid)
    if p is None:
        return _missing(ctx, pid)
    most = limits.max_face_urls
    seq, count, groups = p["seq"], len(p["faces"]), list(p["groups"])
    target = Target("aliyun", "add_faces", credential)
    items = []
    for url in urls:
        if count >= most:
            ctx.note(f"person {pid!r} has {most} faces already: {url[:120]!r} not added")
            items.append(_fail(url))
            continue
        got = await load(sim, ctx, url, target, limits)
        if got.ref is None:
            items.append(_fail(url))
            continue
        now_p = await lib.persons.get(pid)
        if now_p is None or now_p["seq"] != seq:
            ctx.note(f"person {pid!r} was deleted while {url[:120]!r} loaded: not added")
            count, groups = 0, []
            items.append(_fail(url))
            continue
        count, groups = len(now_p["faces"]), list(now_p["groups"])
        if count >= most:
            ctx.note(f"person {pid!r} reached {most} faces while {url[:120]!r} loaded: not added")
            items.append(_fail(url))
            continue
        s = record(ctx, await got.resolution(sim, target))
        face_id = str(sim.rng.randint(10**15, 10**16 - 1))
        face: Record = {"url": url, "sha256": got.ref.sha256, "names": list(_names(s))}
        await lib.index(pid, [face], 1)  # before the face: the indexes name at least the faces held
        v = Verdict()
        added = await lib.persons.update(pid, _adding_face(v, seq, face_id, face, most))
        if added is not None:
            count, groups = len(added["faces"]), list(added["groups"])
        if added is None or not v.ok:
            await lib.index(pid, [face], -1)
            items.append(_fail(url))
            continue
        items.append({"faceId": face_id, "success": True, "url": url})
    return {"code": 200, "personId": pid, "groupId": groups, "faceImageItems": items}


async def delete_faces(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    b = _obj(ctx, body)
    pid = _str(ctx, b, "personId")
    ids = _strs(ctx, b, "faceIds", limits)
    lib = FaceLib(sim, uid, limits)
    v = Verdict()
    got = await lib.persons.update(pid, _dropping_faces(v, ids))
    if got is None:
        return _missing(ctx, pid)
    if v.items:
        await lib.index(pid, v.items, -1)
    return {"code": 200, "personId": pid, "faceIds": list(got["faces"])}


async def get_faces(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    pid = _str(ctx, _obj(ctx, body), "personId")
    p = await FaceLib(sim, uid, limits).persons.get(pid)
    if p is None:
        return _missing(ctx, pid)
    return {
        "code": 200,
        "personId": pid,
        "faceItems": [{"faceId": fid, "url": f["url"]} for fid, f in p["faces"].items()],
    }


async def get_groups(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    if body is not None:
        _obj(ctx, body)
    return {"code": 200, "groupIds": await FaceLib(sim, uid, limits).group_ids()}


async def members(lib: FaceLib, group_id: str) -> list[Record]:
    """The group's persons (their records) in the order they were added to the library."""
    rec = await lib.groups.get(group_id)
    if rec is None:
        return []
    seqs: dict[str, int] = rec["members"]
    out = []
    for pid in sorted(seqs, key=seqs.__getitem__):
        p = await lib.persons.get(pid)
        if p is not None and group_id in p["groups"]:
            out.append(p)
    return out


async def get_persons(sim: Sim, ctx: RequestCtx, uid: str, body: Any, limits: Limits) -> dict[str, Any]:
    gid = _str(ctx, _obj(ctx, body), "groupId")
    persons = await members(FaceLib(sim, uid, limits), gid)
    return {
        "code": 200,
        "groupId": gid,
        "personIds": [p["personId"] for p in persons],
        "persons": [{"personId": p["personId"], "name": p["name"]} for p in persons],
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
    s = record(ctx, await got.resolution(sim, target))
    found = await search(sim, uid, gid, got.ref, s, limits)
    return {
        "code": 200,
        "groupId": gid,
        "persons": [{"personId": m.person_id, "name": m.name, "rate": m.rate} for m in found],
    }


def _names(s: Scenario) -> tuple[str, ...]:
    return tuple(f.identity.name for f in s.faces if f.identity is not None)


async def search(
    sim: Sim, uid: str, group_id: str | None, ref: ContentRef, s: Scenario, limits: Limits
) -> list[Match]:
    """The group's persons whose faces match the image, best first, at most 5. Looks only at the
    persons the indexes name for this image, not at the whole group."""
    if not group_id:
        return []
    lib = FaceLib(sim, uid, limits)
    rec = await lib.groups.get(group_id)
    in_group: dict[str, int] = rec["members"] if rec is not None else {}
    if not in_group:
        return []
    best: dict[str, float] = {}

    def offer(pid: str, r: float) -> None:
        if pid in in_group and r > best.get(pid, -1.0):
            best[pid] = r

    custom = {
        f.identity.id: rate(f.probability)
        for f in s.faces
        if f.identity is not None and f.identity.kind == "custom" and f.identity.id
    }
    for pid, r in custom.items():
        offer(pid, r)
    buckets: dict[str, Record | None] = {}
    if ref.sha256 is not None:
        for holders in (await lib.holders("sha", [ref.sha256], buckets)).values():
            for pid in holders:
                offer(pid, SAME_IMAGE_RATE)
    names = {f.identity.name: rate(f.probability) for f in s.faces if f.identity is not None}
    by_name = await lib.holders("name", names, buckets)
    for n, r in names.items():
        for pid in by_name.get(n, ()):
            offer(pid, r)
    found: list[Match] = []
    for pid, r in sorted(best.items(), key=lambda m: (-m[1], m[0])):
        p = await lib.persons.get(pid)
        if p is not None and group_id in p["groups"]:
            found.append(Match(pid, p["name"], r))
            if len(found) == TOP:
                break
    return found
