"""itapi settings: fixture section ``vendors.itapi`` (schema ``schemas/itapi/config.schema.json``).

- ``result_path``: the result-query endpoint (doc id=81; its real URL is not public). Read when the
  app is built: changing it needs a restart.
- ``error_http_status``: ``"200"`` (default: every answer is HTTP 200, the code is in the body) or
  ``"code"`` (HTTP status = body code: 400 / 403 / 500). The vendor does not document it.
- ``empty_type``: what an empty or absent ``type`` means: ``error`` (default: 400, the doc says the
  parameter is required) or ``all`` (every model).
- ``accept_data_uri``: accept a ``data:image/...;base64,`` prefix on ``data`` (default false).
- ``limits``: decoded image size (10 MB = 10485760 bytes), accepted formats, URL download timeout.
- ``thresholds``: per model, ``block`` (不通过) and ``review`` (疑是) cut-offs on the truth's scores.
  For ``porn``, ``block`` applies to the porn probability and ``review`` to the sexy probability.
- ``ocrtext_labels``: text-lexicon category -> ocrtext level (1 暴恐 2 色情 3 涉政 4 敏感 5 广告
  6 谩骂 9 未成年). The built-in lexicon has categories 1-5; add your own (6-9) in a fixture lexicon
  and map them here.
- ``custom``: the 自定义 (label_level 8) lists: ``words`` found in the OCR text, ``faces`` (identity names).
- ``tasks``: async results: ``pending_polls`` queries answered "processing" before the result,
  ``ready_after_s`` simulator seconds before it is ready, ``ttl_s`` lifetime on the simulator clock,
  ``max_tasks`` kept (oldest dropped first).
- ``messages``: ``msg`` overrides, keyed by code (``"403"``) or by reason (``"key_invalid"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MODELS = ("porn", "ads", "politics", "terror", "sensitive", "ocrtext")
DEFAULT_RESULT_PATH = "/api/badword/picresult"
DEFAULT_OCR_LABELS = {1: 1, 2: 2, 3: 3, 4: 5, 5: 6}


@dataclass(frozen=True)
class Cutoffs:
    block: float
    review: float


DEFAULT_THRESHOLDS = {
    "porn": Cutoffs(block=0.5, review=0.5),
    "ads": Cutoffs(block=0.8, review=0.5),
    "politics": Cutoffs(block=0.8, review=0.5),
    "terror": Cutoffs(block=0.7, review=0.4),
    "sensitive": Cutoffs(block=0.8, review=0.5),
    "ocrtext": Cutoffs(block=0.8, review=0.5),
}


@dataclass(frozen=True)
class Limits:
    max_image_bytes: int = 10 * 1024 * 1024
    formats: tuple[str, ...] = ("jpeg", "png", "gif", "bmp", "webp")
    url_timeout_s: float = 3.0


@dataclass(frozen=True)
class TaskSettings:
    pending_polls: int = 0
    ready_after_s: float = 0.0
    ttl_s: float = 86400.0
    max_tasks: int = 10000


@dataclass(frozen=True)
class ItapiSettings:
    result_path: str = DEFAULT_RESULT_PATH
    error_http_status: str = "200"
    empty_type: str = "error"
    accept_data_uri: bool = False
    limits: Limits = field(default_factory=Limits)
    thresholds: dict[str, Cutoffs] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    ocrtext_labels: dict[int, int] = field(default_factory=lambda: dict(DEFAULT_OCR_LABELS))
    custom_words: tuple[str, ...] = ()
    custom_faces: tuple[str, ...] = ()
    tasks: TaskSettings = field(default_factory=TaskSettings)
    messages: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ItapiSettings:
        """From a section already validated by ``itapi/config.schema``."""
        lim = dict(d.get("limits", {}))
        if "formats" in lim:
            lim["formats"] = tuple(lim["formats"])
        thresholds = dict(DEFAULT_THRESHOLDS)
        for model, cut in d.get("thresholds", {}).items():
            base = thresholds[model]
            thresholds[model] = Cutoffs(
                block=float(cut.get("block", base.block)), review=float(cut.get("review", base.review))
            )
        labels = dict(DEFAULT_OCR_LABELS)
        labels.update({int(k): int(v) for k, v in d.get("ocrtext_labels", {}).items()})
        custom = d.get("custom", {})
        return cls(
            result_path=d.get("result_path", DEFAULT_RESULT_PATH),
            error_http_status=str(d.get("error_http_status", "200")),
            empty_type=d.get("empty_type", "error"),
            accept_data_uri=bool(d.get("accept_data_uri", False)),
            limits=Limits(**lim),
            thresholds=thresholds,
            ocrtext_labels=labels,
            custom_words=tuple(custom.get("words", ())),
            custom_faces=tuple(custom.get("faces", ())),
            tasks=TaskSettings(**d.get("tasks", {})),
            messages={str(k): v for k, v in d.get("messages", {}).items()},
        )
