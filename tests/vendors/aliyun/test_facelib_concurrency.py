"""The face library under concurrent requests interleaved at every store operation, as instances
sharing one store are: the caps hold exactly, a personId is added once, and the registry, the
persons, the groups' records and the indexes agree afterwards.

The store here is the in-process one made to yield to the event loop before each read and write (a
seeded random number of times), with ``Table.update`` retrying its function when the record changed
meanwhile (an optimistic transaction's behaviour), so concurrent requests interleave the way they do
across processes."""

from __future__ import annotations

import asyncio
import copy
import json
import random
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.app import create_app
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.store import Record
from simulator.store.memory import MemoryStore, MemoryTable
from simulator.vendors.aliyun.faces import FaceLib, _bucket
from simulator.vendors.aliyun.scan import settings_of
from tests.vendors.aliyun.helpers import SCAN, UID, green

YIELDS = random.Random()


async def pause() -> None:
    for _ in range(YIELDS.randint(1, 4)):
        await asyncio.sleep(0)


class YieldingTable(MemoryTable):
    def __init__(self, name: str, cap: int, expiring: bool = False) -> None:
        super().__init__(name, cap, expiring)
        self.version: dict[str, int] = {}

    def _bump(self, key: str) -> None:
        self.version[key] = self.version.get(key, 0) + 1

    async def get(self, key: str) -> Record | None:
        await pause()
        return await super().get(key)

    async def put(self, key: str, value: Record, now: float, score: float | None = None) -> None:
        await pause()
        self._bump(key)
        await super().put(key, value, now, score)

    async def update(self, key: str, fn: Callable[[Record], Record | None]) -> Record | None:
        while True:
            await pause()
            seen = self.version.get(key, 0)
            rec = self._records.get(key)
            if rec is None:
                return None
            new = fn(copy.deepcopy(rec))
            await pause()
            if self.version.get(key, 0) != seen:
                continue
            self._bump(key)
            if new is None:
                self._drop(key)
                return None
            self._records[key] = dict(new)
            return new

    async def delete(self, key: str) -> bool:
        await pause()
        self._bump(key)
        return await super().delete(key)


class YieldingStore(MemoryStore):
    def table(self, name: str, cap: int, *, expiring: bool = False) -> YieldingTable:
        t = self._tables.get(name)
        if t is None:
            t = self._tables[name] = YieldingTable(name, cap, expiring)
        t.cap = cap
        assert isinstance(t, YieldingTable)
        return t

    async def claim(self, space: str, key: str, ttl_s: float, now: float) -> bool:
        await pause()
        return await super().claim(space, key, ttl_s, now)

    async def consume(
        self, space: str, key: str, limits: Mapping[str, Any], now: float, n: int = 1
    ) -> str | None:
        await pause()
        return await super().consume(space, key, limits, now, n)


@pytest.fixture(params=range(5))
async def shared(
    request: pytest.FixtureRequest, aiohttp_client: Any, tmp_path: Path
) -> AsyncIterator[tuple[TestClient, Sim]]:
    YIELDS.seed(request.param)
    (tmp_path / "limits.yaml").write_text(
        json.dumps({"vendors": {"aliyun": {"limits": {"max_persons": 6, "qps": None}}}}), encoding="utf-8"
    )
    sim = Sim(Settings(seed=0, validate_responses=True, fixtures=(tmp_path,)))
    sim.store = YieldingStore(sim.state.journal, sim.state.queue)
    client = await aiohttp_client(create_app(sim=sim))
    yield client, sim
    assert sim.schema_violations == [], sim.schema_violations[:3]


async def call(client: TestClient, op: str, body: Any) -> dict[str, Any]:
    path, action = OPS[op]
    status, out, _ = await green(client, path, body, action=action)
    assert (status, out["code"]) == (200, 200), out
    data: dict[str, Any] = out["data"]
    return data


OPS = {
    "add_person": ("/green/sface/person/add", "AddPerson"),
    "delete_person": ("/green/sface/person/delete", "DeletePerson"),
    "add_groups": ("/green/sface/person/groups/add", "AddGroups"),
    "delete_groups": ("/green/sface/person/groups/delete", "DeleteGroups"),
    "add_faces": ("/green/sface/face/add", "AddFaces"),
    "get_groups": ("/green/sface/groups", "GetGroups"),
    "get_persons": ("/green/sface/group/persons", "GetPersons"),
}


async def consistent(sim: Sim) -> FaceLib:
    """The registry, the persons, the groups' records and the index buckets agree."""
    lib = FaceLib(sim, UID, settings_of(sim).limits)
    reg = await lib.registry.get("registry")
    assert reg is not None
    persons = await lib.persons.values()
    assert reg["persons"] == len(persons) and reg["adding"] == {}
    groups: dict[str, dict[str, list[int]]] = {}
    sha: dict[str, dict[str, int]] = {}
    names: dict[str, dict[str, int]] = {}
    for p in persons:
        for g in p["groups"]:
            groups.setdefault(g, {})[p["personId"]] = [p["seq"], 1]
        for f in p["faces"].values():
            if f["sha256"] is not None:
                held = sha.setdefault(f["sha256"], {})
                held[p["personId"]] = held.get(p["personId"], 0) + 1
            for n in set(f["names"]):
                held = names.setdefault(n, {})
                held[p["personId"]] = held.get(p["personId"], 0) + 1
    assert {g: n for g, (_, n) in reg["groups"].items()} == {g: len(m) for g, m in groups.items()}
    assert len(reg["groups"]) <= settings_of(sim).limits.max_groups
    records = dict(lib.groups._records)  # type: ignore[attr-defined]
    assert set(records) == set(groups)
    for g, members in groups.items():
        assert records[g] == {"gen": reg["groups"][g][0], "members": members}
    buckets = dict(lib.buckets._records)  # type: ignore[attr-defined]
    for kind, index in (("sha", sha), ("name", names)):
        for value, held in index.items():
            assert buckets[_bucket(kind, value)]["keys"][value] == held
    indexed = sum(len(b["keys"]) for b in buckets.values())
    assert indexed == len(sha) + len(names)
    return lib


async def test_the_group_cap_holds_under_concurrent_add_groups(shared: tuple[TestClient, Sim]) -> None:
    client, sim = shared
    for pid in ("p1", "p2", "p3"):
        await call(client, "add_person", {"personId": pid, "groupIds": ["common"]})
    # 3 x 40 new groups wanted at once, 99 free slots: exactly the requests that fit are accepted
    wanted = {pid: [f"{pid}-g{i}" for i in range(40)] for pid in ("p1", "p2", "p3")}
    answers = await asyncio.gather(
        *(call(client, "add_groups", {"personId": pid, "groupIds": gs}) for pid, gs in wanted.items())
    )
    accepted = [a for a in answers if a["code"] == 200]
    assert len(accepted) == 2, answers
    assert all(
        a == {"code": 400, "msg": "BAD_REQUEST", "personId": a["personId"]}
        for a in answers
        if a not in accepted
    )
    groups = (await call(client, "get_groups", {}))["groupIds"]
    assert len(groups) == 81 and groups[0] == "common"
    await consistent(sim)


async def test_a_person_id_is_added_once(shared: tuple[TestClient, Sim]) -> None:
    client, sim = shared
    answers = await asyncio.gather(
        *(call(client, "add_person", {"personId": "same", "groupIds": [f"g{i}", "all"]}) for i in range(5))
    )
    assert sorted(a["code"] for a in answers) == [200, 400, 400, 400, 400]
    await consistent(sim)
    persons = (await call(client, "get_persons", {"groupId": "all"}))["personIds"]
    assert persons == ["same"]


async def test_the_person_cap_holds_under_concurrent_add_person(shared: tuple[TestClient, Sim]) -> None:
    client, sim = shared
    answers = await asyncio.gather(
        *(call(client, "add_person", {"personId": f"p{i}", "groupIds": ["g", f"own{i}"]}) for i in range(10))
    )
    assert sorted(a["code"] for a in answers) == [200] * 6 + [400] * 4
    await consistent(sim)
    persons = (await call(client, "get_persons", {"groupId": "g"}))["personIds"]
    assert len(persons) == 6


async def test_joins_leaves_faces_and_deletions_leave_the_library_consistent(
    shared: tuple[TestClient, Sim],
) -> None:
    client, sim = shared
    for i in range(4):
        await call(client, "add_person", {"personId": f"p{i}", "groupIds": ["base"]})
    url = "https://faces.invalid/same.png#modsim=clean_avatar"
    ops: list[tuple[str, dict[str, Any]]] = []
    for i in range(4):
        pid = f"p{i}"
        ops += [
            ("add_groups", {"personId": pid, "groupIds": ["x", "y", f"own{i}"]}),
            ("delete_groups", {"personId": pid, "groupIds": ["x", "base"]}),
            (
                "add_faces",
                {"personId": pid, "urls": [url, f"https://faces.invalid/{i}.png#modsim=star_face"]},
            ),
            ("add_groups", {"personId": pid, "groupIds": ["x"]}),
        ]
    ops.append(("delete_person", {"personId": "p3"}))
    await asyncio.gather(*(call(client, op, body) for op, body in ops))
    lib = await consistent(sim)
    assert await lib.persons.get("p0") is not None

    # every remaining person that holds the shared image is found by its content in group "y"
    holders = sorted(p["personId"] for p in await lib.persons.values() if "y" in p["groups"] and p["faces"])
    task = {"dataId": "d", "url": url, "extras": {"groupId": "y"}}
    status, out, _ = await green(client, SCAN, {"scenes": ["sface-n"], "tasks": [task]})
    assert (status, out["code"]) == (200, 200), out
    found = out["data"][0]["results"][0].get("sfaceData", [{}])[0].get("faces", [])
    assert sorted(f["id"] for f in found if f["rate"] == 99.9) == holders
