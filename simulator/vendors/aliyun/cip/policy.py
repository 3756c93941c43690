"""Content Moderation 2.0 settings: the fixture section ``vendors.aliyun.cip`` (schema
``schemas/aliyun/config.schema.json``), defaults below.

- ``image_services`` / ``text_services``: the ``Service`` codes accepted (documented lists; another is
  ``401 parameter invalid(Service)``). Every image service renders the same truth (the real ones
  differ in which labels they may return; not simulated).
- ``image_qps`` / ``text_qps``: calls per account per simulator second (documented: 100 for
  ImageModeration and TextModeration); past it ``403``.
- ``text_max_chars``: ``content`` characters (documented: 600); past it ``402``.
- ``max_data_id``: ``dataId`` characters (documented: 64); past it ``402``.
- ``report_at``: an image label is reported from this confidence on (inferred: the real service
  returned ``sexual_suggestiveContent`` at 54.63); ``high_at`` / ``medium_at``: a reported label's
  ``RiskLevel`` (inferred), else ``low``.
- ``async_ttl_s``: an ImageAsyncModeration result is kept this long (documented: 3 days), then
  ``409``; ``max_tasks``: results kept at most (oldest dropped first). Pending tasks follow
  ``vendors.aliyun.async`` (``processing_polls``, ``processing_s``), as the 2018 asyncscan's.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulator.sim import Sim

IMAGE_SERVICES = (
    "baselineCheck",
    "baselineCheck_pro",
    "baselineCheck_cb",
    "tonalityImprove",
    "aigcCheck",
    "profilePhotoCheck",
    "advertisingCheck",
    "liveStreamCheck",
    "postImageCheck",
)
TEXT_SERVICES = (
    "nickname_detection",
    "chat_detection",
    "comment_detection",
    "ai_art_detection",
    "ad_compliance_detection",
    "pgc_detection",
    "comment_multilingual_pro",
)


@dataclass(frozen=True)
class CipSettings:
    image_services: tuple[str, ...] = IMAGE_SERVICES
    text_services: tuple[str, ...] = TEXT_SERVICES
    image_qps: int | None = 100
    text_qps: int | None = 100
    text_max_chars: int = 600
    max_url: int = 2048
    max_data_id: int = 64
    report_at: float = 50.0
    high_at: float = 90.0
    medium_at: float = 70.0
    async_ttl_s: float = 3 * 24 * 3600.0
    max_tasks: int = 10_000

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CipSettings:
        known = {f.name for f in fields(cls)}
        args: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items() if k in known}
        return cls(**args)


def cip_settings(sim: Sim) -> CipSettings:
    """The section read once per configuration (``AliyunVendor.configure`` and resets clear the vendor
    state; the first call after reads it again)."""
    state = sim.state.vendor_state("aliyun")
    found = state.get("cip_settings")
    if not isinstance(found, CipSettings):
        found = CipSettings.from_dict(sim.fixtures.vendors.get("aliyun", {}).get("cip", {}))
        state["cip_settings"] = found
    return found
