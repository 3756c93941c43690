"""内容审核平台 (img_censor/v2, text_censor/v2 ``user_defined``): Baidu's label tables and the
console strategy a user would configure, read from the fixture section ``vendors.baidu.censor``
(schema ``schemas/baidu/censor.config.schema.json``; docs/baidu.md "内容审核平台").

Confirmed by Baidu's documentation (响应参数说明, ai.baidu.com/ai-doc/ANTIPORN/Vk42xcpu1, and the
图像审核 API doc copies): the ``type`` codes, the ``subType`` numbering of each type below, the
conclusions (1 合规, 2 不合规, 3 疑似, 4 审核失败), the default strategy's porn labels (一般色情, 卡通色情,
SM, 低俗, 儿童裸露, 艺术品色情, 性玩具) and the message forms ``存在一般色情不合规`` /
``疑似存在恶意推广不合规`` / ``存在自定义文本黑名单不合规`` / ``自定义文本白名单审核通过`` (wire
captures). Inferred, hence configurable: the thresholds (0.8 不合规, 0.5 疑似), which dimensions the
strategy runs, the message form for types no capture shows, the custom word lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: data[].type (结果具体命中的模型)
TYPE_PORN, TYPE_TERROR, TYPE_ADS, TYPE_POLITICS = 1, 2, 4, 5
TYPE_TEXT, TYPE_BLACKLIST, TYPE_WHITELIST = 12, 13, 14

#: data[].subType of each type, by position (当type=N时subType取值含义)
PORN_SUBTYPES = (
    "一般色情",
    "卡通色情",
    "SM",
    "低俗",
    "儿童裸露",
    "艺术品色情",
    "性玩具",
    "男性性感",
    "自然男性裸露",
    "女性性感",
    "卡通女性性感",
    "特殊类",
    "亲密行为",
    "卡通亲密行为",
    "孕肚裸露",
    "臀部特写",
    "脚部特写",
    "裆部特写",
)
#: the names of face_audit's terror ``result_fine`` (``models.TERROR_FINE``, in wire order), here in
#: subType order
TERROR_SUBTYPES = (
    "警察部队",
    "血腥",
    "尸体",
    "爆炸火灾",
    "杀人",
    "暴乱",
    "暴恐人物",
    "军事武器",
    "暴恐旗帜",
    "血腥动物或动物尸体",
    "车祸",
)
ADS_SUBTYPES = ("水印", "二维码", "条形码")
POLITICS_SUBTYPES = ("政治敏感", "公众人物", "自定义敏感人物")

CONCLUSIONS = {1: "合规", 2: "不合规", 3: "疑似", 4: "审核失败"}
COMPLIANT, NON_COMPLIANT, SUSPECTED, FAILED = 1, 2, 3, 4

#: the image dimensions a strategy can run (``public``: 公众人物 as well as 政治人物; ``text``: 图文,
#: the image's text lines through the lexicon and the custom word lists)
DIMENSIONS = ("porn", "terror", "ads", "politics", "public", "text")


@dataclass(frozen=True)
class WordList:
    """A custom text list (自定义文本黑名单 / 白名单): its name (``datasetName`` in ``hits``) and words."""

    name: str
    words: tuple[str, ...]

    def found(self, text: str) -> list[str]:
        """The list's words in ``text`` (case-insensitive), in list order."""
        lowered = text.lower()
        return [w for w in self.words if w and w.lower() in lowered]


@dataclass(frozen=True)
class CensorPolicy:
    reject: float = 0.8
    review: float = 0.5
    dimensions: tuple[str, ...] = ("porn", "terror", "ads", "politics", "text")
    porn_labels: tuple[str, ...] = PORN_SUBTYPES[:7]
    terror_labels: tuple[str, ...] = TERROR_SUBTYPES
    blacklists: tuple[WordList, ...] = ()
    whitelists: tuple[WordList, ...] = ()
    reject_msg: str = "存在{name}不合规"
    review_msg: str = "疑似存在{name}不合规"
    whitelist_msg: str = "自定义文本白名单审核通过"
    blacklist_name: str = "自定义文本黑名单"
    dataset_name: str = "百度默认文本反作弊库"
    #: captures since 2021 end with ``"isHitMd5":false`` before ``conclusionType``
    is_hit_md5: bool = True

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CensorPolicy:
        image = d.get("image", {})
        text = d.get("text", {})
        msgs = d.get("messages", {})
        base = cls()
        return cls(
            reject=float(image.get("thresholds", {}).get("reject", base.reject)),
            review=float(image.get("thresholds", {}).get("review", base.review)),
            dimensions=tuple(image.get("dimensions", base.dimensions)),
            porn_labels=tuple(image.get("porn_labels", base.porn_labels)),
            terror_labels=tuple(image.get("terror_labels", base.terror_labels)),
            blacklists=tuple(
                WordList(w["name"], tuple(w.get("words", ()))) for w in text.get("blacklists", ())
            ),
            whitelists=tuple(
                WordList(w["name"], tuple(w.get("words", ()))) for w in text.get("whitelists", ())
            ),
            reject_msg=msgs.get("reject", base.reject_msg),
            review_msg=msgs.get("review", base.review_msg),
            whitelist_msg=msgs.get("whitelist", base.whitelist_msg),
            blacklist_name=msgs.get("blacklist_name", base.blacklist_name),
            dataset_name=msgs.get("dataset_name", base.dataset_name),
            is_hit_md5=bool(d.get("is_hit_md5", base.is_hit_md5)),
        )

    def verdict(self, p: float) -> int | None:
        """An image dimension's score: NON_COMPLIANT, SUSPECTED, or None (no item)."""
        if p >= self.reject:
            return NON_COMPLIANT
        if p >= self.review:
            return SUSPECTED
        return None

    def msg(self, conclusion: int, name: str) -> str:
        return (self.reject_msg if conclusion == NON_COMPLIANT else self.review_msg).replace("{name}", name)
