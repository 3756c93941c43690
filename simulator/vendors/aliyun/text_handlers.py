"""Handlers of the Green 2018-05-09 text scan and the feedback calls, through the same ROA/ACS3
gateway and envelope as the image scan (``handlers.green``)."""

from __future__ import annotations

from typing import Any

from simulator.vendors.aliyun import feedback, text
from simulator.vendors.aliyun.envelope import NO_DATA
from simulator.vendors.aliyun.handlers import Call, green
from simulator.vendors.aliyun.scan import settings_of


async def _text_scan(c: Call) -> Any:
    return await text.scan(c.sim, c.ctx, c.cred.id, c.uid, c.body)


async def _image_feedback(c: Call) -> Any:
    feedback.image(c.ctx, c.body, settings_of(c.sim).limits)
    return NO_DATA


async def _text_feedback(c: Call) -> Any:
    feedback.text(c.ctx, c.body, settings_of(c.sim).limits)
    return NO_DATA


text_scan = green(_text_scan)
image_feedback = green(_image_feedback)
text_feedback = green(_text_feedback)
