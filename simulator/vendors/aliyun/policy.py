"""Aliyun Green settings: the fixture section ``vendors.aliyun`` (schema ``schemas/aliyun/config.schema.json``).

- ``biz_types``: bizType -> per-scene thresholds on ``rate`` (0-100): ``rate >= block`` -> block,
  ``>= review`` -> review, below -> the label is ``normal`` and the suggestion pass. ``null`` means
  "never" (the seed's sface answer is ``review`` at 97.03, so sface never blocks by default).
  Per-label overrides under ``labels`` (e.g. porn/sexy only ever reviews). ``sface_kinds``: which
  identity kinds of the truth are "sensitive faces" (default: politicians).
  An absent bizType uses ``default_biz_type``; an unknown one too (journalled).
- ``limits``: tasks per request (100), images per user per second (588 above ``qps``; counted in
  tasks, as the seed says 100 tasks need concurrency >= 100), dataId/url lengths, image bytes,
  download and synchronous time limits; the face library's limits (documented: 20 faces per person,
  100 groups per account, ids of at most 32 characters; inferred: 1,000 persons per account, 100 ids
  or URLs per request, 256-character name and note; see faces.py).
- ``async``: a task is PROCESSING until it has been polled ``processing_polls`` times or is
  ``processing_s`` simulator-seconds old, whichever first; ``ttl_s`` later it is 594 EXPIRED.
- ``callback``: hosts callbacks may be POSTed to (plus ``Settings.fetch_allowlist``), retries on a
  non-200 answer, pause between attempts (real seconds) and per-attempt timeout.
- ``gateway``: Date/x-acs-date window (``null``: unchecked), nonce TTL, and the ``HostId`` used when
  the request has no Host header. ``nonce_cache_size`` is accepted and ignored: nonces are claims of
  the store, which keeps at most 100,000 per space.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCENES = ("porn", "terrorism", "ad", "qrcode", "live", "logo", "sface", "sface-n")


@dataclass(frozen=True)
class Threshold:
    review: float | None = 60.0
    block: float | None = 90.0

    def suggestion(self, rate: float) -> str:
        if self.block is not None and rate >= self.block:
            return "block"
        if self.review is not None and rate >= self.review:
            return "review"
        return "pass"

    @classmethod
    def from_dict(cls, d: dict[str, Any], base: Threshold | None = None) -> Threshold:
        base = base or cls()
        return cls(review=d.get("review", base.review), block=d.get("block", base.block))


@dataclass(frozen=True)
class ScenePolicy:
    threshold: Threshold = field(default_factory=Threshold)
    labels: dict[str, Threshold] = field(default_factory=dict)

    def for_label(self, label: str) -> Threshold:
        return self.labels.get(label, self.threshold)


DEFAULT_SCENES: dict[str, ScenePolicy] = {
    "porn": ScenePolicy(Threshold(60, 90), {"sexy": Threshold(60, None)}),
    "terrorism": ScenePolicy(Threshold(60, 90)),
    "ad": ScenePolicy(Threshold(60, 90)),
    "qrcode": ScenePolicy(Threshold(50, 90)),
    "live": ScenePolicy(Threshold(60, 90)),
    "logo": ScenePolicy(Threshold(60, 90)),
    "sface": ScenePolicy(Threshold(60, None)),
    "sface-n": ScenePolicy(Threshold(60, 90)),
}


@dataclass(frozen=True)
class BizType:
    name: str
    scenes: dict[str, ScenePolicy]
    sface_kinds: tuple[str, ...] = ("politician",)

    @classmethod
    def from_dict(cls, name: str, d: dict[str, Any]) -> BizType:
        scenes = dict(DEFAULT_SCENES)
        for scene, spec in d.get("scenes", {}).items():
            base = DEFAULT_SCENES[scene]
            th = Threshold.from_dict(spec, base.threshold)
            labels = dict(base.labels)
            for label, lspec in spec.get("labels", {}).items():
                labels[label] = Threshold.from_dict(lspec, th)
            scenes[scene] = ScenePolicy(th, labels)
        return cls(name=name, scenes=scenes, sface_kinds=tuple(d.get("sface_kinds", ("politician",))))


@dataclass(frozen=True)
class Limits:
    max_tasks: int = 100
    qps: int | None = 50
    max_data_id: int = 256
    max_url: int = 2048
    max_image_bytes: int = 10 * 1024 * 1024
    formats: tuple[str, ...] = ("png", "jpeg", "bmp", "gif", "webp")
    download_timeout_s: float = 3.0
    sync_timeout_s: float = 6.0
    max_result_ids: int = 100
    max_face_urls: int = 20
    max_groups: int = 100
    max_persons: int = 1000
    max_ids: int = 100
    max_id_length: int = 32
    max_person_text: int = 256
    #: /green/text/scan (documented: 100 texts per account per second, 10,000 characters a text, a
    #: dataId of at most 128 characters)
    text_qps: int | None = 100
    max_text_chars: int = 10_000
    max_text_data_id: int = 128


@dataclass(frozen=True)
class AsyncSettings:
    processing_polls: int = 1
    processing_s: float = 5.0
    ttl_s: float = 3600.0
    max_tasks: int = 10_000


@dataclass(frozen=True)
class CallbackSettings:
    allowlist: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")
    retries: int = 3
    retry_interval_s: float = 0.2
    timeout_s: float = 3.0
    max_pending: int = 1000


@dataclass(frozen=True)
class GatewaySettings:
    max_skew_s: float | None = 900.0
    nonce_ttl_s: float = 900.0
    nonce_cache_size: int = 100_000
    host_id: str = "green.cn-shanghai.aliyuncs.com"


@dataclass(frozen=True)
class AliyunSettings:
    biz_types: dict[str, BizType]
    default_biz_type: str = "default"
    limits: Limits = field(default_factory=Limits)
    async_: AsyncSettings = field(default_factory=AsyncSettings)
    callback: CallbackSettings = field(default_factory=CallbackSettings)
    gateway: GatewaySettings = field(default_factory=GatewaySettings)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AliyunSettings:
        biz = {str(k): BizType.from_dict(str(k), v or {}) for k, v in d.get("biz_types", {}).items()}
        default = str(d.get("default_biz_type", "default"))
        biz.setdefault(default, BizType.from_dict(default, {}))
        lim = dict(d.get("limits", {}))
        if "formats" in lim:
            lim["formats"] = tuple(lim["formats"])
        cb = dict(d.get("callback", {}))
        if "allowlist" in cb:
            cb["allowlist"] = tuple(cb["allowlist"])
        return cls(
            biz_types=biz,
            default_biz_type=default,
            limits=Limits(**lim),
            async_=AsyncSettings(**d.get("async", {})),
            callback=CallbackSettings(**cb),
            gateway=GatewaySettings(**d.get("gateway", {})),
        )

    def biz_type(self, name: str | None) -> tuple[BizType, bool]:
        """The policy for ``name`` and whether it was found (False: fell back to the default)."""
        if name and name in self.biz_types:
            return self.biz_types[name], True
        return self.biz_types[self.default_biz_type], not name
