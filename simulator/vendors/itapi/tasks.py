"""Async tasks (``sync`` other than ``yes``): a store table on the simulator clock.

A task is decided when it is submitted (scenario resolved, verdict rendered), so queued outcomes and
rules act at submit time. The result query then answers "processing" for the first
``pending_polls`` queries and until ``ready_after_s`` simulator seconds have passed, then the verdict,
until ``ttl_s`` after submission. At most ``max_tasks`` are kept; the oldest go first. A task belongs
to the key that submitted it: another key gets "no such task". Sync answers are stored as ready tasks
too, so their ``taskid`` can be queried like any other.

Tasks live in the store's ``itapi:tasks`` table (``TASKS``: submitted on one instance, polled on
another), one record per task, ``Task.to_dict()``; a poll is counted with ``Table.update``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from simulator.store import Record
from simulator.vendors.itapi.policy import TaskSettings

#: the table of tasks by ``taskid``, capped at ``tasks.max_tasks`` (oldest dropped)
TASKS = "itapi:tasks"


@dataclass
class Task:
    taskid: str
    credential: str
    created: float
    data: dict[str, Any]
    ready: bool = False
    polls: int = 0

    def to_dict(self) -> Record:
        return {
            "taskid": self.taskid,
            "credential": self.credential,
            "created": self.created,
            "data": self.data,
            "ready": self.ready,
            "polls": self.polls,
        }

    @classmethod
    def from_dict(cls, d: Record) -> Task:
        return cls(
            taskid=d["taskid"],
            credential=d["credential"],
            created=d["created"],
            data=d["data"],
            ready=bool(d.get("ready", False)),
            polls=int(d.get("polls", 0)),
        )


def poll(now: float, limits: TaskSettings, owned: Callable[[str], bool]) -> Callable[[Record], Record]:
    """The ``Table.update`` of one result query (pure): a task of the key asking (``owned``) that has
    not expired counts the poll, and is ready once past ``pending_polls`` polls and ``ready_after_s``
    seconds; any other task is left as it is."""

    def apply(rec: Record) -> Record:
        created = float(rec["created"])
        if not owned(rec["credential"]) or now >= created + limits.ttl_s:
            return rec
        polls = int(rec.get("polls", 0)) + 1
        ready = bool(rec.get("ready")) or (
            polls > limits.pending_polls and now - created >= limits.ready_after_s
        )
        return {**rec, "polls": polls, "ready": ready}

    return apply


def snapshot(records: list[Record], now: float, limits: TaskSettings) -> list[dict[str, Any]]:
    """The admin listing of ``records`` (the table's, oldest first)."""
    out = []
    for rec in records:
        t = Task.from_dict(rec)
        out.append(
            {
                "taskid": t.taskid,
                "credential": t.credential,
                "created": t.created,
                "polls": t.polls,
                "ready": t.ready,
                "expires": t.created + limits.ttl_s,
                "expired": now >= t.created + limits.ttl_s,
                "conclusion": t.data.get("conclusion"),
            }
        )
    return out
