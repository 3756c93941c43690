"""The face library's limits (documented and inferred, see simulator/vendors/aliyun/faces.py) and its
cost: every operation touches what its answer holds, never the whole library.

Cost is counted, not timed: request ids go through the handler as ``Counted`` strings, whose ``==``
comparisons are counted. A membership test against a list compares with every element; against a set
or dict it hashes and compares with at most the one equal key."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from simulator.app import create_app
from simulator.settings import Settings
from simulator.sim import Sim
from simulator.vendors.aliyun import handlers
from tests.vendors.aliyun.helpers import UID, green

ADD_PERSON = "/green/sface/person/add"
ADD_GROUPS = "/green/sface/person/groups/add"
DELETE_GROUPS = "/green/sface/person/groups/delete"
GET_PERSON = "/green/sface/person"
GET_GROUPS = "/green/sface/groups"
GET_PERSONS = "/green/sface/group/persons"
ADD_FACES = "/green/sface/face/add"
DELETE_FACES = "/green/sface/face/delete"
SEARCH = "/green/sface/search"


class Counted(str):
    """A str whose ``==`` comparisons are counted (hash and value unchanged)."""

    compared = 0

    def __eq__(self, other: object) -> bool:
        Counted.compared += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


@pytest.fixture
def counted_ids(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every ``groupId``/``groupIds`` string of a Green body reaches the model as a ``Counted``."""
    real: Callable[[Any, bytes], Any] = handlers._json

    def wrap(ctx: Any, raw: bytes) -> Any:
        body = real(ctx, raw)
        if isinstance(body, dict):
            if isinstance(body.get("groupIds"), list):
                body["groupIds"] = [Counted(g) if isinstance(g, str) else g for g in body["groupIds"]]
            if isinstance(body.get("groupId"), str):
                body["groupId"] = Counted(body["groupId"])
        return body

    monkeypatch.setattr(handlers, "_json", wrap)
    Counted.compared = 0
    yield


async def lib(client: TestClient, path: str, body: Any, action: str) -> dict[str, Any]:
    """A face-library call that must succeed at the top level; its ``data``."""
    status, out, _ = await green(client, path, body, action=action)
    assert (status, out["code"], out["msg"]) == (200, 200, "OK"), out
    data: dict[str, Any] = out["data"]
    return data


async def top_level_400(client: TestClient, path: str, body: Any, action: str) -> None:
    status, out, _ = await green(client, path, body, action=action)
    assert (status, out["code"], out["msg"]) == (200, 400, "BAD_REQUEST"), out
    assert "data" not in out


# ------------------------------------------------------------------------------------------------
# cost


async def test_add_groups_checks_membership_in_constant_time(client: TestClient, counted_ids: None) -> None:
    await lib(client, ADD_PERSON, {"personId": "p", "groupIds": [f"g{i}" for i in range(90)]}, "AddPerson")
    Counted.compared = 0
    new = [f"h{i}" for i in range(10)]
    data = await lib(client, ADD_GROUPS, {"personId": "p", "groupIds": new}, "AddGroups")
    assert data["groupIds"] == [f"g{i}" for i in range(90)] + new  # insertion order kept
    # a list scan compares each new id with the 90-99 ids already there (~945); hashing: ~1 per lookup
    assert Counted.compared <= 3 * len(new), Counted.compared


async def test_delete_groups_costs_the_ids_sent_not_the_person_s_groups(
    client: TestClient, counted_ids: None
) -> None:
    await lib(client, ADD_PERSON, {"personId": "p", "groupIds": [f"g{i}" for i in range(100)]}, "AddPerson")
    Counted.compared = 0
    gone = [f"g{i}" for i in range(0, 100, 2)]
    data = await lib(client, DELETE_GROUPS, {"personId": "p", "groupIds": gone}, "DeleteGroups")
    assert data["groupIds"] == [f"g{i}" for i in range(1, 100, 2)]
    # rebuilding the list tests each of the 100 groups against the 50 ids sent (~3,800 comparisons)
    assert Counted.compared <= 5 * len(gone), Counted.compared  # a few dict operations per id


async def test_group_lookups_do_not_scan_the_library(client: TestClient, counted_ids: None) -> None:
    """GetPersons and SearchPerson look at the group's members, not at every person of the account."""
    for i in range(60):
        await lib(client, ADD_PERSON, {"personId": f"p{i}", "groupIds": [f"g{i % 3}"]}, "AddPerson")
    await lib(client, ADD_PERSON, {"personId": "vip", "groupIds": ["vips"], "name": "V"}, "AddPerson")
    url = "https://faces.invalid/vip.png#modsim=clean_avatar"
    await lib(client, ADD_FACES, {"personId": "vip", "urls": [url]}, "AddFaces")

    Counted.compared = 0
    data = await lib(client, GET_PERSONS, {"groupId": "vips"}, "GetPersons")
    assert data["personIds"] == ["vip"]
    assert Counted.compared <= 2, Counted.compared

    # a group's persons are listed in the order they were added, not the order they joined
    for pid in ("p5", "p1"):
        await lib(client, ADD_GROUPS, {"personId": pid, "groupIds": ["vips"]}, "AddGroups")
    data = await lib(client, GET_PERSONS, {"groupId": "vips"}, "GetPersons")
    assert data["personIds"] == ["p1", "p5", "vip"]

    Counted.compared = 0
    data = await lib(client, SEARCH, {"groupId": "vips", "url": url}, "SearchPerson")
    assert data["persons"] == [{"personId": "vip", "name": "V", "rate": 99.9}]
    assert Counted.compared <= 2, Counted.compared


# ------------------------------------------------------------------------------------------------
# documented limits: 100 groups per account, 20 faces per person, ids of at most 32 characters


async def test_the_101st_group_of_an_account_is_refused(client: TestClient) -> None:
    hundred = [f"g{i}" for i in range(100)]
    await lib(client, ADD_PERSON, {"personId": "p1", "groupIds": hundred[:60]}, "AddPerson")
    await lib(client, ADD_PERSON, {"personId": "p2", "groupIds": hundred[60:]}, "AddPerson")

    data = await lib(client, ADD_GROUPS, {"personId": "p1", "groupIds": ["g99", "g100"]}, "AddGroups")
    assert data == {"code": 400, "msg": "BAD_REQUEST", "personId": "p1"}
    data = await lib(client, ADD_PERSON, {"personId": "p3", "groupIds": ["g0", "new"]}, "AddPerson")
    assert data == {"code": 400, "msg": "BAD_REQUEST", "personId": "p3"}

    # nothing changed: p1 has its 60 groups, p3 does not exist, the account still has 100 groups
    assert (await lib(client, GET_PERSON, {"personId": "p1"}, "GetPerson"))["groupIds"] == hundred[:60]
    assert (await lib(client, GET_PERSON, {"personId": "p3"}, "GetPerson"))["code"] == 404
    assert (await lib(client, GET_GROUPS, {}, "GetGroups"))["groupIds"] == hundred
    # existing groups can still be joined, and a freed slot can be used
    data = await lib(client, ADD_GROUPS, {"personId": "p1", "groupIds": ["g99"]}, "AddGroups")
    assert data["groupIds"] == [*hundred[:60], "g99"]
    await lib(client, DELETE_GROUPS, {"personId": "p2", "groupIds": ["g60"]}, "DeleteGroups")
    data = await lib(client, ADD_GROUPS, {"personId": "p1", "groupIds": ["g100"]}, "AddGroups")
    assert data["code"] == 200 and data["groupIds"][-1] == "g100"


async def test_a_full_person_does_not_load_more_faces(client: TestClient, sim: Sim) -> None:
    await lib(client, ADD_PERSON, {"personId": "p", "groupIds": ["g"]}, "AddPerson")
    urls = [f"https://faces.invalid/{i}.png#modsim=clean_avatar" for i in range(20)]
    await lib(client, ADD_FACES, {"personId": "p", "urls": urls}, "AddFaces")
    sim.state.journal.clear()
    data = await lib(
        client, ADD_FACES, {"personId": "p", "urls": ["https://faces.invalid/x.png"]}, "AddFaces"
    )
    assert data["faceImageItems"] == [{"faceId": "", "success": False, "url": "https://faces.invalid/x.png"}]
    [entry] = sim.state.journal.query(vendor="aliyun")
    assert any("has 20 faces already" in n for n in entry["notes"]), entry["notes"]
    assert not any(n.startswith("download ") for n in entry["notes"]), entry["notes"]  # nothing loaded


async def test_ids_are_letters_digits_underscore_hyphen_up_to_32(client: TestClient) -> None:
    for body in (
        {"personId": "p" * 33, "groupIds": ["g"]},
        {"personId": "p", "groupIds": ["g" * 33]},
        {"personId": "p q", "groupIds": ["g"]},
        {"personId": "p", "groupIds": ["组"]},
    ):
        await top_level_400(client, ADD_PERSON, body, "AddPerson")
    pid, gid = "P_-9" * 8, "g" * 32
    data = await lib(client, ADD_PERSON, {"personId": pid, "groupIds": [gid]}, "AddPerson")
    assert data == {"code": 200, "personId": pid, "groupIds": [gid]}
    await top_level_400(client, ADD_GROUPS, {"personId": pid, "groupIds": ["g/1"]}, "AddGroups")


# ------------------------------------------------------------------------------------------------
# inferred limits: 100 ids per request, 256-character name and note, 1,000 persons per account


@pytest.mark.parametrize(
    ("path", "action", "key"),
    [
        (ADD_PERSON, "AddPerson", "groupIds"),
        (ADD_GROUPS, "AddGroups", "groupIds"),
        (DELETE_GROUPS, "DeleteGroups", "groupIds"),
        (ADD_FACES, "AddFaces", "urls"),
        (DELETE_FACES, "DeleteFaces", "faceIds"),
    ],
)
async def test_more_than_100_ids_in_one_request_is_400(
    client: TestClient, sim: Sim, path: str, action: str, key: str
) -> None:
    await lib(client, ADD_PERSON, {"personId": "p", "groupIds": ["g"]}, "AddPerson")
    ids = [f"https://faces.invalid/{i}.png" if key == "urls" else f"x{i}" for i in range(101)]
    await top_level_400(client, path, {"personId": "p", key: ids}, action)
    entry = sim.state.journal.query(vendor="aliyun")[-1]
    assert any(f"{key} has 101 items, at most 100" in n for n in entry["notes"]), entry["notes"]
    # 100 is fine
    pid = "q" if path == ADD_PERSON else "p"
    status, out, _ = await green(client, path, {"personId": pid, key: ids[:100]}, action=action)
    assert (status, out["code"]) == (200, 200), out


async def test_face_urls_longer_than_2048_are_400(client: TestClient) -> None:
    await lib(client, ADD_PERSON, {"personId": "p", "groupIds": ["g"]}, "AddPerson")
    url = "https://faces.invalid/" + "a" * 2048
    await top_level_400(client, ADD_FACES, {"personId": "p", "urls": [url]}, "AddFaces")


@pytest.mark.parametrize("key", ["name", "note"])
async def test_name_and_note_longer_than_256_are_400(client: TestClient, key: str) -> None:
    await top_level_400(
        client, ADD_PERSON, {"personId": "p", "groupIds": ["g"], key: "名" * 257}, "AddPerson"
    )
    await lib(client, ADD_PERSON, {"personId": "p", "groupIds": ["g"], key: "名" * 256}, "AddPerson")
    await top_level_400(client, "/green/sface/person/update", {"personId": "p", key: "x" * 257}, "SetPerson")


@pytest.fixture
async def small_client(aiohttp_client: Any, tmp_path: Path) -> AsyncIterator[TestClient]:
    """Persons per account capped at 3 (``vendors.aliyun.limits.max_persons``)."""
    (tmp_path / "limits.yaml").write_text(json.dumps({"vendors": {"aliyun": {"limits": {"max_persons": 3}}}}))
    sim = Sim(Settings(seed=0, validate_responses=True, fixtures=(tmp_path,)))
    client = await aiohttp_client(create_app(sim=sim))
    yield client
    assert sim.schema_violations == [], sim.schema_violations


async def test_persons_per_account_are_capped(small_client: TestClient) -> None:
    for pid in ("a", "b", "c"):
        await lib(small_client, ADD_PERSON, {"personId": pid, "groupIds": ["g"]}, "AddPerson")
    data = await lib(small_client, ADD_PERSON, {"personId": "d", "groupIds": ["g"]}, "AddPerson")
    assert data == {"code": 400, "msg": "BAD_REQUEST", "personId": "d"}
    assert (await lib(small_client, GET_PERSONS, {"groupId": "g"}, "GetPersons"))["personIds"] == [
        "a",
        "b",
        "c",
    ]
    await lib(small_client, "/green/sface/person/delete", {"personId": "a"}, "DeletePerson")
    data = await lib(small_client, ADD_PERSON, {"personId": "d", "groupIds": ["g"]}, "AddPerson")
    assert data["code"] == 200


# ------------------------------------------------------------------------------------------------
# the admin listing


async def test_admin_facelib_listing_is_bounded(client: TestClient) -> None:
    for pid in ("a", "b", "c"):
        await lib(client, ADD_PERSON, {"personId": pid, "groupIds": ["g", pid]}, "AddPerson")
    resp = await client.get("/__modsim/vendors/aliyun/facelib", params={"limit": "2"})
    assert resp.status == 200
    listing = await resp.json()
    assert list(listing) == [UID]
    assert listing[UID]["persons_total"] == 3
    assert listing[UID]["groupIds"] == ["g", "a", "b", "c"]
    assert [p["personId"] for p in listing[UID]["persons"]] == ["a", "b"]
    assert listing[UID]["persons"][0] == {"personId": "a", "name": "", "groupIds": ["g", "a"], "faces": []}

    resp = await client.get("/__modsim/vendors/aliyun/facelib", params={"limit": "x"})
    assert (resp.status, await resp.json()) == (
        400,
        {"error": "invalid_request", "detail": "limit must be an integer"},
    )
