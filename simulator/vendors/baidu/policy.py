"""Baidu face_audit policies ("审核配置组", selected by ``configId``) and request limits.

Fixture section ``vendors.baidu`` (schema ``schemas/baidu/config.schema.json``):

- ``configs``: configId -> which services run (``data`` keys), which res_msg rules apply, thresholds,
  competitor names (rule 103) and the custom face library (rule 207).
- ``empty_config_id``: what an empty or absent configId means. The Python SDK sends ``configId=``
  by default, and real apps get answers with it, so the default is ``default`` (use
  ``default_config``); ``error`` answers 282800 instead. Unknown non-empty ids are always 282800.
- ``limits``: per-image and per-request limits (4 MB base64, longest side 4096 px, 30 URLs; the
  shortest side floor and the image count cap are not documented: configurable, see README).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from simulator.scenarios.model import Scenario
from simulator.vendors.baidu.censor_policy import CensorPolicy
from simulator.vendors.base import PARAMS_BYTES, form_bytes

if TYPE_CHECKING:
    from simulator.sim import Sim

SERVICES = ("ocr", "face", "antiporn", "terror", "public", "politician", "quality")

PHONE = re.compile(r"(?<!\d)1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
DIGITS = re.compile(r"\d+")
QQ_WORD = re.compile(r"(?i)q\s*q|扣扣|企鹅号")


@dataclass(frozen=True)
class Thresholds:
    porn: float = 0.5
    sexy: float = 0.6
    terror: float = 0.5
    identity: float = 0.6
    max_faces: int = 2
    aesthetic: float = 0.4
    suspect_digits_min: int = 6


@dataclass(frozen=True)
class FaceAuditConfig:
    id: str
    services: tuple[str, ...] = SERVICES
    rules: tuple[int, ...] = (101, 102, 103, 104, 201, 203, 204, 205, 206, 207, 301, 302, 401, 501)
    thresholds: Thresholds = field(default_factory=Thresholds)
    competitors: tuple[str, ...] = ()
    face_library: tuple[str, ...] = ()
    description: str = ""

    @classmethod
    def from_dict(cls, cid: str, d: dict[str, Any]) -> FaceAuditConfig:
        return cls(
            id=cid,
            services=tuple(d.get("services", SERVICES)),
            rules=tuple(d.get("rules", cls.rules)),
            thresholds=Thresholds(**d.get("thresholds", {})),
            competitors=tuple(d.get("competitors", ())),
            face_library=tuple(d.get("face_library", ())),
            description=d.get("description", ""),
        )


@dataclass(frozen=True)
class Limits:
    max_image_b64: int = 4 * 1024 * 1024
    max_side: int = 4096
    min_side: int = 15
    max_urls: int = 30
    max_images: int = 0  # 0: no cap beyond the body size cap
    formats: tuple[str, ...] = ("jpeg", "png", "bmp")
    url_timeout_s: float = 3.0
    #: detect_gif: whole GIF as base64, frames, one frame's share of the bytes
    gif_max_b64: int = 20 * 1024 * 1024
    gif_max_frames: int = 50
    gif_max_frame_bytes: int = 4 * 1024 * 1024
    #: antispam v2: UTF-8 bytes of ``content``
    spam_max_bytes: int = 20000
    #: 内容审核平台-图像 (img_censor/v2/user_defined): base64 characters of ``image`` (10 MB), sides,
    #: formats (the doc: "最短边大于等于128像素，小于等于4096像素"; PNG, JPG, BMP, GIF, WebP, TIFF)
    censor_max_b64: int = 10 * 1024 * 1024
    censor_max_side: int = 4096
    censor_min_side: int = 128
    censor_formats: tuple[str, ...] = ("jpeg", "png", "bmp", "gif", "webp", "tiff")
    #: 内容审核平台-文本 (text_censor/v2/user_defined): UTF-8 bytes of ``text`` ("文本长度限制：20000字节")
    text_max_bytes: int = 20000
    #: tokens remembered; past it, expired ones (simulator clock) go first, then the oldest
    max_tokens: int = 100_000


@dataclass(frozen=True)
class BaiduSettings:
    configs: dict[str, FaceAuditConfig]
    default_config: str = "1"
    empty_config_id: str = "default"
    limits: Limits = field(default_factory=Limits)
    #: the GIF answer's id key: the SDK docs' table and examples say ``log_id``; the REST doc's example
    #: says ``logid`` (and showapi's 2054-2 doc too)
    gif_log_id_key: str = "log_id"
    #: 内容审核平台 strategy (``vendors.baidu.censor``)
    censor: CensorPolicy = field(default_factory=CensorPolicy)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BaiduSettings:
        configs = {
            str(k): FaceAuditConfig.from_dict(str(k), v or {}) for k, v in d.get("configs", {}).items()
        }
        lim = dict(d.get("limits", {}))
        for key in ("formats", "censor_formats"):
            if key in lim:
                lim[key] = tuple(lim[key])
        return cls(
            configs=configs,
            default_config=str(d.get("default_config", "1")),
            empty_config_id=d.get("empty_config_id", "default"),
            limits=Limits(**lim),
            gif_log_id_key=d.get("gif_log_id_key", "log_id"),
            censor=CensorPolicy.from_dict(d.get("censor", {})),
        )

    def config_for(self, config_id: str) -> FaceAuditConfig | None:
        if config_id == "":
            return self.configs.get(self.default_config) if self.empty_config_id == "default" else None
        return self.configs.get(config_id)


#: the res_msg rules each service decides (a failed service decides none of its rules)
SERVICE_RULES: dict[str, tuple[int, ...]] = {
    "ocr": (101, 102, 103, 104),
    "face": (201, 202, 203, 207),
    "public": (204, 206),
    "politician": (205,),
    "antiporn": (301, 302),
    "terror": (401,),
    "quality": (501, 502, 503),
}


def rule_hits(cfg: FaceAuditConfig, s: Scenario, skip: tuple[int, ...] = ()) -> list[int]:
    """res_msg for one image: the enabled rules the scenario fails, in code order (``skip``: rules of a
    service that failed)."""
    t = cfg.thresholds
    text = "\n".join(s.text)
    phones = PHONE.findall(text)
    stripped = PHONE.sub(" ", text)
    runs = [len(m) for m in DIGITS.findall(stripped)]
    kinds = [f.identity.kind for f in s.faces if f.identity and f.probability >= t.identity]
    names = {f.identity.name for f in s.faces if f.identity}
    checks: dict[int, bool] = {
        101: bool(phones),
        102: bool(QQ_WORD.search(text)) or any(n > 9 for n in runs),
        103: any(c.lower() in text.lower() for c in cfg.competitors if c),
        104: any(t.suspect_digits_min <= n <= 9 for n in runs),
        201: not s.faces,
        202: bool(s.faces),
        203: len(s.faces) >= t.max_faces,
        204: "star" in kinds,
        205: "politician" in kinds,
        206: "public" in kinds,
        207: bool(names & set(cfg.face_library)),
        301: s.porn.porn >= t.porn,
        302: s.porn.sexy >= t.sexy,
        401: s.terror_score >= t.terror,
        501: s.quality.aesthetic < t.aesthetic,
        502: s.quality.aesthetic > t.aesthetic,
        503: s.quality.aesthetic != t.aesthetic,
    }
    return [code for code in sorted(cfg.rules) if code not in skip and checks.get(code, False)]


def settings_of(sim: Sim) -> BaiduSettings:
    """The parsed ``vendors.baidu`` section (kept by ``BaiduVendor.configure``)."""
    bs: BaiduSettings = sim.state.vendor_state("baidu").get("settings") or BaiduSettings.from_dict(
        sim.fixtures.vendors.get("baidu", {})
    )
    return bs


def max_body_bytes(limits: Limits, operation: str) -> int | None:
    """The body cap of a Baidu operation (None: the core cap). Baidu states per-item limits, not a
    body size: face_audit takes two images at the base64 limit (the image count is not capped, so a
    bigger body is 216202 here), detect_gif one GIF, antispam ``spam_max_bytes`` of text urlencoded
    (three bytes per byte at most), the token endpoint its parameters. antiporn, antiterror, the
    combination API and report one image at ``max_image_b64`` (report: its feedback may carry an
    image), img_censor/v2 one at ``censor_max_b64``, text_censor/v2 ``text_max_bytes`` urlencoded."""
    if operation == "face_audit":
        return form_bytes(max(2, limits.max_images) * limits.max_image_b64)
    if operation == "detect_gif":
        return form_bytes(limits.gif_max_b64)
    if operation == "spam":
        return 3 * limits.spam_max_bytes + PARAMS_BYTES
    if operation in ("antiporn", "antiterror", "img_censor_comb", "report"):
        return form_bytes(limits.max_image_b64)
    if operation == "img_censor_user_defined":
        return form_bytes(limits.censor_max_b64)
    if operation == "text_censor_user_defined":
        return 3 * limits.text_max_bytes + PARAMS_BYTES
    if operation == "token":
        return PARAMS_BYTES
    return None
