"""Text moderation, Green 2018-05-09: ``/green/text/scan`` (scene ``antispam``). No aiohttp here.

Each task's text finds its scenario as every text operation's does (the queue, rules with ``text``
regexes, a ``[[modsim=NAME]]`` marker, the content-hash default) and the lexicon gives the verdict
(``Lexicon.truth``: a scenario's text lines are analysed instead of the submitted content). Each
category's Green label is ``scenes.TEXT_LABELS``' (暴恐 terrorism, 色情 porn, 政治 politics, 推广 ad,
辱骂 abuse); its suggestion the lexicon's bucket (reject -> block, review -> review, else pass); the
label shown is the most severe one (then the highest score), ``normal`` when every category passes;
``rate`` the score x 100. ``details`` lists every category at review or block with the words hit
as ``contexts``. The other documented labels (spam, flood, contraband, meaningless, customized) are
not produced by the built-in lexicon.

Top-level 400: a body that is not an object, ``scenes`` other than ``["antispam"]``, ``tasks`` absent,
empty or over ``limits.max_tasks``, a task without a non-empty string ``content`` or over
``limits.max_text_chars`` characters, a ``dataId`` not a string, over ``limits.max_text_data_id`` or
repeated. 588 past ``limits.text_qps`` texts per account per simulator second.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simulator.context import RequestCtx
from simulator.scenarios.matcher import ContentRef, resolve_recorded
from simulator.scenarios.model import TEXT
from simulator.scenarios.text import TextVerdict, marker_from_text
from simulator.vendors.aliyun import scenes
from simulator.vendors.aliyun.errors import GREEN_MESSAGES, GreenError, bad_request
from simulator.vendors.aliyun.policy import Limits
from simulator.vendors.aliyun.scan import SERVICE_ERROR_CODE, settings_of

if TYPE_CHECKING:
    from simulator.sim import Sim

OPERATION = "text_scan"
SCENE = "antispam"
#: the store's window of texts per account (``Store.consume``, key: the account uid)
TEXTS = "aliyun:texts"
SUGGESTION = {"reject": "block", "review": "review", "pass": "pass"}
SEVERITY = {"block": 2, "review": 1, "pass": 0}


@dataclass(frozen=True)
class TextTask:
    content: str
    data_id: str | None = None


def parse(ctx: RequestCtx, body: Any, limits: Limits) -> list[TextTask]:
    if not isinstance(body, dict):
        raise bad_request(ctx, f"body is a JSON {type(body).__name__}, not an object")
    if body.get("scenes") != [SCENE]:
        raise bad_request(ctx, f"scenes must be [{SCENE!r}], not {str(body.get('scenes'))[:60]}")
    biz = body.get("bizType")
    if biz is not None and not isinstance(biz, str):
        raise bad_request(ctx, "bizType is not a string")
    raw = body.get("tasks")
    if not isinstance(raw, list) or not raw:
        raise bad_request(ctx, "tasks must be a non-empty array")
    if len(raw) > limits.max_tasks:
        raise bad_request(ctx, f"{len(raw)} tasks, at most {limits.max_tasks}")
    tasks: list[TextTask] = []
    seen: set[str] = set()
    for i, t in enumerate(raw):
        if not isinstance(t, dict):
            raise bad_request(ctx, f"tasks[{i}] is not an object")
        content = t.get("content")
        if not isinstance(content, str) or not content:
            raise bad_request(ctx, f"tasks[{i}].content is missing, empty or not a string")
        if len(content) > limits.max_text_chars:
            raise bad_request(
                ctx, f"tasks[{i}].content has {len(content)} characters > {limits.max_text_chars}"
            )
        data_id = t.get("dataId")
        if data_id is not None:
            if not isinstance(data_id, str):
                raise bad_request(ctx, f"tasks[{i}].dataId is not a string")
            if len(data_id) > limits.max_text_data_id:
                raise bad_request(ctx, f"[task.dataId] is too long(>{limits.max_text_data_id})")
            if data_id in seen:
                raise bad_request(ctx, f"dataId {data_id[:64]!r} repeated within the request")
            seen.add(data_id)
        tasks.append(TextTask(content, data_id))
    return tasks


def text_task_id(sim: Sim) -> str:
    ident = sim.rng.b62(28)
    return f"txt{ident[:22]}-{ident[22:]}"


def result(verdict: TextVerdict) -> dict[str, Any]:
    """The ``antispam`` scene's result for one verdict."""
    flagged = []
    for ls in verdict.labels:
        label = scenes.TEXT_LABELS.get(ls.label)
        suggestion = SUGGESTION[verdict.bucket(ls)]
        if label is not None and suggestion != "pass":
            flagged.append((SEVERITY[suggestion], scenes.rate(ls.score), label, suggestion, ls.hits))
    flagged.sort(key=lambda f: (-f[0], -f[1], f[2]))
    if not flagged:
        top = max((ls.score for ls in verdict.labels), default=0.0)
        return {"scene": SCENE, "label": "normal", "suggestion": "pass", "rate": scenes.rate(1 - top)}
    _, rate, label, suggestion, _ = flagged[0]
    details = [
        {"label": lb, "contexts": [{"context": w} for w in hits]} if hits else {"label": lb}
        for _, _, lb, _, hits in flagged
    ]
    return {"scene": SCENE, "label": label, "suggestion": suggestion, "rate": rate, "details": details}


async def scan(sim: Sim, ctx: RequestCtx, credential: str, uid: str, body: Any) -> list[dict[str, Any]]:
    limits = settings_of(sim).limits
    tasks = parse(ctx, body, limits)
    if limits.text_qps is not None:
        now = sim.clock.now()
        if await sim.store.consume(TEXTS, uid, {"qps": limits.text_qps}, now, n=len(tasks)) is not None:
            used = (await sim.store.usage(TEXTS, uid, now))["qps"]
            ctx.note(
                f"588: {used} texts in the last second + {len(tasks)} > {limits.text_qps} (limits.text_qps)"
            )
            raise GreenError(588)
    out = []
    for task in tasks:
        ref = ContentRef(
            sha256=hashlib.sha256(task.content.encode("utf-8", "surrogatepass")).hexdigest(),
            text=task.content,
            marker=marker_from_text(task.content),
        )
        s = await resolve_recorded(sim, ctx, "aliyun", OPERATION, credential, ref, reads=TEXT)
        task_id = text_task_id(sim)
        item: dict[str, Any] = {"code": 200, "msg": "OK", "taskId": task_id, "content": task.content}
        if task.data_id is not None:
            item["dataId"] = task.data_id
        if s.service_error is not None:
            failure = s.service_error.code
            code = failure if failure in GREEN_MESSAGES and failure != 200 else SERVICE_ERROR_CODE
            ctx.note(f"task {task_id}: scenario {s.name!r} fails inside (service_error) -> {code}")
            item.update(code=code, msg=GREEN_MESSAGES[code])
        else:
            verdict = sim.lexicon.truth(s, sim.rng, task.content)
            item["results"] = [result(verdict)]
            ctx.note(f"task {task_id}: {item['results'][0]['label']} ({item['results'][0]['suggestion']})")
        out.append(item)
    return out
