"""Truth model. One scenario says what the content contains; each vendor renders it through its policy.

Probabilities are 0..1 floats. Boxes are pixels ``left, top, width, height`` in a nominal image of the
scenario's ``size`` (vendors scale nothing: they report what the truth says).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

IDENTITY_KINDS = ("star", "politician", "public", "custom")
#: what an operation analyses (``vendors.base.Route.content``): ``image`` renders any scenario (its
#: text lines are the text in the image), ``text`` only a scenario's text, ``none`` no content at all
IMAGE, TEXT, NO_CONTENT = "image", "text", "none"
#: the violence/terror labels scenarios use (``terror: [{name: bloody, score: 0.9}]``) and their usual
#: Chinese names (Baidu's antiterror fine labels; itapi's terror label text)
TERROR_LABELS = {
    "bloody": "血腥",
    "corpse": "尸体",
    "fire": "爆炸火灾",
    "explosion": "爆炸火灾",
    "murder": "杀人",
    "riot": "暴乱",
    "terrorist": "暴恐人物",
    "flag": "暴恐旗帜",
    "animal_gore": "血腥动物或动物尸体",
    "car_crash": "车祸",
    "weapon": "军事武器",
    "police": "警察部队",
    "crowd": "人群聚集",
}
BEHAVIOURS = (
    "smoking",
    "drugs",
    "tattoo",
    "gambling",
    "drinking",
    "gesture",
    "minor",
    "superstition",
)


@dataclass(frozen=True)
class Identity:
    kind: str  # one of IDENTITY_KINDS
    name: str
    id: str | None = None  # person id in a custom face library
    group: str | None = None  # custom library group


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int] = (90, 92, 111, 99)
    probability: float = 0.99
    gender: str = "male"
    age: int = 28
    glasses: int = 0  # 0 none, 1 ordinary, 2 sun
    race: str = "yellow"
    human: float = 0.98  # 1 - cartoon
    blur: float = 0.0
    illumination: int = 150
    completeness: int = 1
    occlusion: float = 0.0
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    identity: Identity | None = None


@dataclass(frozen=True)
class Porn:
    porn: float = 0.01
    sexy: float = 0.02
    normal: float = 0.97


@dataclass(frozen=True)
class Label:
    name: str
    score: float


@dataclass(frozen=True)
class Ads:
    qrcode: bool = False
    barcode: bool = False
    #: ad/promotion probability for the image as a whole
    score: float = 0.0
    #: text of QR codes (rendered by vendors that decode them)
    qrcode_texts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Quality:
    aesthetic: float = 0.7
    blur: float = 0.05
    clarity: float = 0.9


@dataclass(frozen=True)
class TextHit:
    label: int  # 1 暴恐 2 色情 3 政治 4 恶意推广 5 低俗辱骂
    words: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class ServiceError:
    """The vendor's analysis of this content fails inside (seed 001: ``error_code``/``error_msg`` in a
    ``result[]`` item, "底层服务调用异常码，正常不返回，异常才返回"). ``code``/``msg``: the vendor's
    per-item code and text (None: each vendor's default); ``service``: the one sub-service that failed
    (Baidu face_audit's ``data`` key; None: every service)."""

    code: int | None = None
    msg: str | None = None
    service: str | None = None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str = ""
    size: tuple[int, int] = (256, 256)
    faces: tuple[Face, ...] = ()
    text: tuple[str, ...] = ()
    porn: Porn = field(default_factory=Porn)
    #: violence / terror labels, e.g. bloody, weapon, flag, crowd
    terror: tuple[Label, ...] = ()
    ads: Ads = field(default_factory=Ads)
    logos: tuple[Label, ...] = ()
    behaviours: tuple[Label, ...] = ()
    quality: Quality = field(default_factory=Quality)
    #: per-frame porn truth for GIFs; empty: every frame is ``porn``
    frames: tuple[Porn, ...] = ()
    #: for text content: forced category hits, on top of the word lists
    text_hits: tuple[TextHit, ...] = ()
    tags: tuple[str, ...] = ()
    service_error: ServiceError | None = None

    @property
    def terror_score(self) -> float:
        return max((t.score for t in self.terror), default=0.0)

    @property
    def has_text(self) -> bool:
        return bool(self.text or self.text_hits)

    def lacks(self, reads: str) -> str | None:
        """None when an operation analysing ``reads`` content can render this scenario; else what is missing."""
        if reads == TEXT and not self.has_text:
            return f"scenario {self.name!r} has no text (neither text lines nor text_hits)"
        if reads == NO_CONTENT:
            return "the operation analyses no content"
        return None

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Scenario:
        """Build from a fixture mapping already validated by ``schemas/scenario.schema.json``."""
        faces = tuple(_face(f) for f in d.get("faces", ()))
        return cls(
            name=d["name"],
            description=d.get("description", ""),
            size=tuple(d.get("size", (256, 256))),
            faces=faces,
            text=tuple(d.get("text", ())),
            porn=Porn(**d["porn"]) if "porn" in d else Porn(),
            terror=tuple(Label(**t) for t in d.get("terror", ())),
            ads=_ads(d.get("ads", {})),
            logos=tuple(Label(**t) for t in d.get("logos", ())),
            behaviours=tuple(Label(**t) for t in d.get("behaviours", ())),
            quality=Quality(**d["quality"]) if "quality" in d else Quality(),
            frames=tuple(Porn(**p) for p in d.get("frames", ())),
            text_hits=tuple(
                TextHit(label=h["label"], words=tuple(h.get("words", ())), score=h["score"])
                for h in d.get("text_hits", ())
            ),
            tags=tuple(d.get("tags", ())),
            service_error=ServiceError(**d["service_error"]) if "service_error" in d else None,
        )


def _face(d: dict[str, Any]) -> Face:
    args = {k: v for k, v in d.items() if k not in {"box", "identity"}}
    ident = d.get("identity")
    return Face(
        box=tuple(d.get("box", (90, 92, 111, 99))),
        identity=Identity(**ident) if ident else None,
        **args,
    )


def _ads(d: dict[str, Any]) -> Ads:
    return Ads(
        qrcode=d.get("qrcode", False),
        barcode=d.get("barcode", False),
        score=d.get("score", 0.0),
        qrcode_texts=tuple(d.get("qrcode_texts", ())),
    )
