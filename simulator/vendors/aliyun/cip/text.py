"""TextModeration. No aiohttp here.

The text's scenario decides, as for every text operation (``Lexicon.truth``: a queued, rule or
marker scenario's text lines are analysed instead of the submitted ``content``). Each lexicon
category at ``review`` or ``reject`` is a label, named from its Green 2018 label
(``scenes.TEXT_LABELS``) the 2.0 way (``FROM_2018``), most severe first; ``labels`` joins them with
commas and ``reason`` is a JSON string: ``riskTips`` (the labels' sub-labels), ``riskWords`` (the
words hit) and, for ads, ``adNums`` (the numbers hit). A clean text: ``labels`` and ``reason`` empty
strings (as the real service answers).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from simulator.context import RequestCtx
from simulator.scenarios.matcher import ContentRef, resolve_recorded
from simulator.scenarios.model import TEXT
from simulator.scenarios.text import marker_from_text
from simulator.vendors.aliyun import scenes
from simulator.vendors.aliyun.cip.errors import CIP_CODES, CipError
from simulator.vendors.aliyun.cip.params import fail, service, text_field
from simulator.vendors.aliyun.cip.policy import cip_settings

if TYPE_CHECKING:
    from simulator.sim import Sim
    from simulator.vendors.aliyun import signing

OPERATION = "text_moderation"
#: the store's window of TextModeration calls per account
CALLS = "aliyun:cip-texts"
#: Green 2018 text label -> TextModeration label
FROM_2018 = {
    "terrorism": "violence",
    "porn": "sexual_content",
    "politics": "political_content",
    "ad": "ad",
    "abuse": "profanity",
}
#: a label's ``riskTips`` (``色情_低俗`` and ``辱骂_低俗`` as seen from the real service; the others
#: inferred in the same ``类别_细分`` form)
RISK_TIPS = {
    "violence": "暴恐_涉恐",
    "sexual_content": "色情_低俗",
    "political_content": "涉政_敏感",
    "ad": "广告_引流",
    "profanity": "辱骂_低俗",
}
SEVERITY = {"reject": 2, "review": 1, "pass": 0}
AD_NUMBER = re.compile(r"\d{5,}")


async def moderate(
    sim: Sim, ctx: RequestCtx, credential: str, uid: str, params: signing.Query
) -> dict[str, Any]:
    """The ``Data`` of the answer."""
    cfg = cip_settings(sim)
    _, sp = service(ctx, OPERATION, params, cfg.text_services)
    content = text_field(ctx, OPERATION, sp, "content", required=True, limit=cfg.text_max_chars)
    assert content is not None
    echoed = {
        k: text_field(ctx, OPERATION, sp, k, limit=cfg.max_data_id)
        for k in ("dataId", "accountId", "deviceId")
    }
    if cfg.text_qps is not None and await sim.store.consume(
        CALLS, uid, {"qps": cfg.text_qps}, sim.clock.now()
    ):
        raise fail(ctx, OPERATION, 403, "", f"more than {cfg.text_qps} text calls in a second (cip.text_qps)")
    ref = ContentRef(
        sha256=hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest(),
        text=content,
        marker=marker_from_text(content),
    )
    s = await resolve_recorded(sim, ctx, "aliyun", OPERATION, credential, ref, reads=TEXT)
    if s.service_error is not None:
        failure = s.service_error.code
        code = failure if failure in CIP_CODES and failure != 280 else 500
        ctx.note(f"scenario {s.name!r} fails inside (service_error) -> {code}")
        raise CipError(code, operation=OPERATION)
    verdict = sim.lexicon.truth(s, sim.rng, content)
    flagged = sorted(
        (ls for ls in verdict.labels if verdict.bucket(ls) != "pass" and scenes.TEXT_LABELS.get(ls.label)),
        key=lambda ls: (-SEVERITY[verdict.bucket(ls)], -ls.score, ls.label),
    )
    labels = [FROM_2018[scenes.TEXT_LABELS[ls.label]] for ls in flagged]
    ctx.note(
        "text verdict: "
        + (", ".join(f"{lb}={ls.score}" for lb, ls in zip(labels, flagged, strict=True)) or "clean")
    )
    reason = ""
    if flagged:
        words = list(dict.fromkeys(w for ls in flagged for w in ls.hits))
        why: dict[str, str] = {
            "riskTips": ",".join(RISK_TIPS[lb] for lb in labels),
            "riskWords": ",".join(words),
        }
        numbers = [
            n
            for lb, ls in zip(labels, flagged, strict=True)
            if lb == "ad"
            for w in ls.hits
            for n in AD_NUMBER.findall(w)
        ]
        if numbers:
            why["adNums"] = ",".join(dict.fromkeys(numbers))
        reason = json.dumps(why, ensure_ascii=False, separators=(",", ":"))
    data: dict[str, Any] = {"labels": ",".join(labels), "reason": reason}
    data.update({k: v for k, v in echoed.items() if v is not None})
    return data
