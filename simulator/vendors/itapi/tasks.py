"""Async tasks (``sync`` other than ``yes``): a bounded store on the simulator clock.

A task is decided when it is submitted (scenario resolved, verdict rendered), so queued outcomes and
rules act at submit time. The result query then answers "processing" for the first
``pending_polls`` queries and until ``ready_after_s`` simulator seconds have passed, then the verdict,
until ``ttl_s`` after submission. At most ``max_tasks`` are kept; the oldest go first. A task belongs
to the key that submitted it: another key gets "no such task". Sync answers are stored as ready tasks
too, so their ``taskid`` can be queried like any other.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from simulator.vendors.itapi.policy import TaskSettings


@dataclass
class Task:
    taskid: str
    credential: str
    created: float
    data: dict[str, Any]
    ready: bool = False
    polls: int = 0


class TaskStore:
    def __init__(self) -> None:
        self._tasks: OrderedDict[str, Task] = OrderedDict()

    def add(self, task: Task, limits: TaskSettings) -> None:
        self._tasks[task.taskid] = task
        while len(self._tasks) > limits.max_tasks:
            self._tasks.popitem(last=False)

    def get(self, taskid: str) -> Task | None:
        return self._tasks.get(taskid)

    def drop(self, taskid: str) -> None:
        self._tasks.pop(taskid, None)

    def __len__(self) -> int:
        return len(self._tasks)

    def snapshot(self, now: float, limits: TaskSettings) -> list[dict[str, Any]]:
        return [
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
            for t in self._tasks.values()
        ]
