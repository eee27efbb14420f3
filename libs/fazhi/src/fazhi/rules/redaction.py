"""Redaction of personal data (names, ID numbers, phones, bank cards, e-mail, the known parties'
addresses) before publishing.

Pure functions; :func:`redact` documents the rules.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

__all__ = [
    "COMMON_SURNAMES",
    "COMPOUND_SURNAMES",
    "MARKERS",
    "PERSON_MARKERS",
    "Party",
    "Redacted",
    "Replacement",
    "ReplacementKind",
    "contains_personal_data",
    "mask_for_log",
    "numbers_in",
    "phone_or_id_possible",
    "pseudonym",
    "redact",
]


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ReplacementKind = Literal["name", "id_number", "phone", "bank_card", "email", "address"]

MARKERS: dict[ReplacementKind, str] = {
    "address": "[地址已隐去]",
    "id_number": "[身份证号已隐去]",
    "phone": "[电话已隐去]",
    "bank_card": "[银行卡号已隐去]",
    "email": "[邮箱已隐去]",
}

COMPOUND_SURNAMES: frozenset[str] = frozenset(
    _words(
        "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 "
        "夏侯 端木 西门 南宫 独孤 轩辕 百里 呼延 东郭 申屠 太史 闻人 濮阳 "
        "澹台 公冶 宗政 单于 钟离 万俟 赫连 拓跋"
    )
)

# The ~200 most common single-character surnames, without those that are also everyday words
# right after a role marker (申请人向…, 申请人于…, 当事人应当…, 当事人解除…: 向 于 和 应 时 全 成
# 单 商 司 车 路 古 吉 查 解 连 任 万 明 安 文 关). Known parties with those surnames are still
# redacted; only the marker heuristic skips them.
COMMON_SURNAMES: frozenset[str] = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏"
    "魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎贺顾毛郝龚"
    "邵钱严覃武戴莫孔汤常温康施牛樊葛邢齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿兰焦俞左柳"
    "甘祝包宁尚符舒阮柯纪梅童凌毕季裴霍涂苗谷盛曲翁冉骆蓝游辛靳管柴蒙鲍华喻祁蒲房滕屈饶"
    "牟艾尤阳穆农卓缪简项芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂佟臧闵苟邬边"
    "卞姬师仇栾隋刁沙荣巫寇桑郎甄丛仲虞敖巩佘池麻苑迟邝"
)

PERSON_MARKERS: tuple[str, ...] = (
    "委托代理人",
    "诉讼代理人",
    "法定代理人",
    "法定代表人",
    "被申请人",
    "被上诉人",
    "申请人",
    "第三人",
    "信访人",
    "当事人",
    "上诉人",
    "代理人",
    "联系人",
    "保证人",
    "原告",
    "被告",
    "证人",
)

_HEAVENLY_STEMS = "甲乙丙丁戊己庚辛壬癸"

# A candidate name ending in one of these characters, or containing one of the words, is a unit
# (李家村, 张记商行, 王府井百货有限公司), not a person.
_ORG_FINAL = frozenset("局委办院所厂店部处科队站村组会行社馆室署厅场校团市区县省乡")
_ORG_WORDS = _words(
    "公司 政府 街道 中心 集团 协会 医院 学校 银行 大学 学院 委员 有限 "
    "门诊 诊所 超市 酒店 宾馆 商行 机关 单位 企业 派出 事务 合作"
)

# Titles, honorifics and roles written right after a name (李明律师, 赵六主任, 王五副局长).
# They end a name as surely as a follow word; a surname directly followed by one (王主任,
# 张先生) is no name.
_DEPUTY_TITLES = _words(
    "主任 书记 主席 经理 总经理 局长 科长 处长 所长 队长 庭长 院长 部长 厅长 站长 "
    "股长 组长 村长 镇长 乡长 县长 市长 省长 区长 厂长 校长 行长 社长 馆长 会长 审判长"
)
_TITLES = tuple(
    sorted(
        (
            *_words(
                "先生 女士 小姐 夫人 同志 律师 法官 检察官 警官 民警 审判员 陪审员 书记员 调解员 "
                "仲裁员 董事长 主管 总监 秘书 会计 出纳 助理 专员 干事 老师 教授 医生 大夫 护士 "
                "师傅 委员 代表"
            ),
            *_DEPUTY_TITLES,
            *("副" + title for title in _DEPUTY_TITLES),
        ),
        key=len,
        reverse=True,
    )
)

# What may follow a person's name inside running text, scored by how surely it ends a name: a
# word (不服, 认为, 申请人…, or a title) beats the end of the CJK run, which beats a character that
# is rarely the last of a name (称, 与, 于…), which beats one that often is (和, 为, 可…).
_FOLLOW_WORDS = tuple(
    sorted(
        _words(
            "不服 认为 诉称 辩称 述称 提出 请求 要求 申请 同意 表示 委托 现住 "
            "户籍 出生 身份 联系 电话 手机 作出 所在 办理 共同 代理 拒绝 承认 "
            "主张 陈述 签字 签名 确认 收到 领取 支付 赔偿 给付 返还 承担 负责 "
            "本人 双方 一方 之间 因为 已经 没有 不予 不能 自愿 "
            "愿意 应当 明确 多次 一直 再次 当即 当场 亲自 自行 随即 立即 "
            "反映 投诉 举报 来访 来信 到场 出庭 提交 提供 声称 说明 "
            "申请人 被申请人 第三人 当事人"
        )
        + _TITLES,
        key=len,
        reverse=True,
    )
)
_SURE_BOUNDARY = 1.6
_FOLLOW_STRONG = frozenset("称系等的与及因于对向在是诉经已未将把被由就并也又均都了曾遂")
_FOLLOW_WEAK = frozenset("和为来同可应须即之其自到以住男女跟签")

# A second character or opening word that makes a word, not a name, after a role marker
# (申请人申请…, 当事人曾经…, 第三人陈述…).
_NOT_NAME_SECOND = frozenset(
    "被不的了对向将把已未也又均都就及与等所之其是系称应于在因自从由以即并还要请提认说诉当述多"
)
_NOT_NAME_WORDS = frozenset(
    _words(
        "明确 关于 高于 高度 常住 常年 方面 方式 方可 方案 曾经 金额 程序 "
        "许可 严重 严格 陈述 陈列 房屋 房产 余额 余款 董事 陆续 石材 黄金 "
        "龙头 周边 周围 江边 林地 牛羊 田地 卫生 毛利"
    )
)

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_RUN = re.compile(f"[{_CJK}]+")


def _fold_table() -> dict[int, int | None]:
    """How text is read before matching (see :func:`redact`): one character for one, or none.

    Full-width ASCII folds to ASCII; every Unicode decimal digit (Arabic-Indic ٣, full-width ３,
    Devanagari ३, mathematical 𝟑 …) to its ASCII digit; spaces to " ", dashes and minus signs to
    "-", middle dots and bullets to "."; × to X (written for an ID's check character); invisible
    format characters (zero-width spaces and joiners, word joiner, BOM, soft hyphen, bidi marks,
    variation selectors) are dropped.
    """
    table: dict[int, int | None] = {0xFF01 + i: 0x21 + i for i in range(94)}
    for cp in range(0x20000):
        ch = chr(cp)
        category = unicodedata.category(ch)
        if ch.isdecimal():
            table[cp] = ord(str(unicodedata.decimal(ch)))
        elif category == "Cf" or 0xFE00 <= cp <= 0xFE0F or cp == 0x034F:
            table[cp] = None
        elif category == "Zs":
            table[cp] = ord(" ")
        elif category == "Pd" or ch in "\u2212\u2043\uff0d\ufe63":
            table[cp] = ord("-")
    for ch in "\u00b7\u2022\u2024\u2027\u2219\u30fb\uff0e\ufe52\uff65":
        table[ord(ch)] = ord(".")
    table[ord("\u00d7")] = ord("X")
    for cp in range(0xE0000, 0xE0080):  # language tags
        table[cp] = None
    for cp in range(0xE0100, 0xE01F0):  # variation selectors supplement
        table[cp] = None
    return table


_FOLD = _fold_table()
_DROPPED = frozenset(chr(cp) for cp, to in _FOLD.items() if to is None)


@dataclass(frozen=True)
class _View:
    """``text`` as it is matched (folded, invisible characters dropped), with the way back to
    the original: ``origin[i]`` is the index in the original of the folded ``text[i]``."""

    text: str
    origin: tuple[int, ...] | None
    """None when nothing was dropped (the indexes are the same)."""

    @classmethod
    def of(cls, original: str) -> _View:
        folded = original.translate(_FOLD)
        if len(folded) == len(original):
            return cls(folded, None)
        return cls(folded, tuple(i for i, c in enumerate(original) if c not in _DROPPED))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the folded ``text[start:end]`` (invisible characters inside
        it included)."""
        if self.origin is None:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1


def _fold(value: str) -> str:
    return value.translate(_FOLD)


# Between the digits of a phone or ID number: nothing, or up to three spaces, dots or dashes
# (138.0013.8000, 138 - 0013 - 8000, 1 3 8 0 0 1 3 8 0 0 0), after folding.
_S = r"[ .\-]{0,3}"
_ID18 = re.compile(rf"(?<!\d)\d(?:{_S}\d){{16}}{_S}[\dXx](?![\dXx])")
_ID18_CLASSIC = re.compile(r"\d{17}[\dXx]|\d{6}([ -])\d{8}\1\d{3}[\dXx]")
_ID15 = re.compile(rf"(?<!\d)[1-9](?:{_S}\d){{14}}(?!\d)")
_MOBILE = re.compile(rf"(?<![\d+])(?:(?:\+|00)?86{_S})?1{_S}[3-9](?:{_S}\d){{9}}(?!\d)")
_AREA = r"(?:10|2\d|[3-9]\d{2})"
# The area code is written whole; the local number may be broken anywhere.
_LANDLINE = re.compile(
    rf"(?<![\d+])(?:\(0{_AREA}\){_S}|0{_AREA}{_S}|(?:\+|00)86{_S}\(?{_AREA}\)?{_S})"
    rf"[2-9](?:{_S}\d){{6,7}}(?:(?:-|转|分机| ?ext\.? ?)\d{{1,6}})?(?!\d)",
    re.IGNORECASE,
)
_CARD_GROUPED = re.compile(r"(?<!\d)\d{4}(?:([ .-])\d{4})(?:\1\d{4}){2}(?:\1\d{1,3})?(?!\d)")
_CARD_PLAIN = re.compile(r"(?<!\d)(?:\d{16,17}|\d{19})(?!\d)")
_CARD_CONTEXT = re.compile(r"(?:卡号|银行卡|账号|帐号|账户)\D{0,10}$")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_MARKER_RE = re.compile("(?:" + "|".join(PERSON_MARKERS) + r")[ \t]*[:：]?[ \t]*")

_PRIORITY: dict[ReplacementKind, int] = {
    "id_number": 0,
    "bank_card": 1,
    "phone": 2,
    "email": 3,
    "address": 4,
    "name": 5,
}


@dataclass(frozen=True)
class Party:
    """A party known from the case; persons' names, IDs, phones and addresses are redacted
    everywhere."""

    name: str
    kind: Literal["person", "organisation"] = "person"
    id_number: str | None = None
    phone: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class Replacement:
    """One redaction: span in the original text and what replaced it (never the original)."""

    kind: ReplacementKind
    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class Redacted:
    """The public text and the list of replacements made (safe to log: no original values)."""

    text: str
    replacements: tuple[Replacement, ...]

    @property
    def changed(self) -> bool:
        return bool(self.replacements)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.replacements:
            out[r.kind] = out.get(r.kind, 0) + 1
        return out


@dataclass(frozen=True)
class _Hit:
    kind: ReplacementKind
    start: int
    end: int
    key: str  # canonical value, only for comparing with ``keep``


def _split_name(name: str) -> tuple[str, str]:
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def pseudonym(name: str) -> str:
    """张三 → 张某, 李小明 → 李某某, 欧阳娜娜 → 欧阳某某; names not in Chinese → 某某."""
    name = name.strip()
    if not name or not _CJK_RUN.match(name[0]):
        return "某某"
    surname, given = _split_name(name)
    return surname + "某" * max(1, len("".join(_CJK_RUN.findall(given))))


def _digits_key(value: str) -> str:
    folded = _fold(value)
    if "@" in folded:
        return folded.strip().lower()
    digits = "".join(c for c in folded if c in "0123456789Xx").upper()
    return digits if len(digits) >= 5 else folded.strip()


def _phone_key(value: str) -> str:
    """The national form: +86 139… → 139…, +86 29 8765 4321 → 02987654321."""
    digits = _digits_key(value)
    for prefix in ("0086", "86"):
        rest = digits[len(prefix) :]
        if digits.startswith(prefix) and len(rest) in (10, 11) and rest.isdigit():
            return rest if rest.startswith("1") else "0" + rest
    return digits


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _plausible_date(mm: str, dd: str) -> bool:
    return 1 <= int(mm) <= 12 and 1 <= int(dd) <= 31


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_BIRTH_DAY = re.compile(r"(?:18|19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


def _check_character_ok(digits: str) -> bool:
    """The GB 11643 check character of an 18-character resident ID."""
    total = sum(int(c) * w for c, w in zip(digits[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == digits[17]


def _id18_kind(written: str) -> ReplacementKind | None:
    digits = re.sub(r"[ .-]", "", written).upper()
    # Broken up at unusual places, 18 digits are an ID only with a birth date or a valid check
    # character: a list of dates or amounts is not one.
    if not _ID18_CLASSIC.fullmatch(written) and not (
        _BIRTH_DAY.fullmatch(digits, 6, 14) or _check_character_ok(digits)
    ):
        return None
    if (
        digits[-1].isdigit()
        and not _plausible_date(digits[10:12], digits[12:14])
        and _luhn_ok(digits)
    ):
        return "bank_card"
    return "id_number"


@cache
def _overlapping(pattern: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(f"(?=({pattern.pattern}))", pattern.flags)


def _candidates(pattern: re.Pattern[str], folded: str) -> Iterator[tuple[int, int, str]]:
    """Every match of ``pattern``, overlapping ones too: one that a filter refuses must not
    hide another that starts inside it."""
    for m in _overlapping(pattern).finditer(folded):
        yield m.start(1), m.end(1), m.group(1)


def _number_hits(folded: str) -> Iterator[_Hit]:
    for start, end, written in _candidates(_ID18, folded):
        kind = _id18_kind(written)
        if kind is not None:
            yield _Hit(kind, start, end, _digits_key(written))
    for start, end, written in _candidates(_ID15, folded):
        digits = re.sub(r"[ .-]", "", written)
        if _plausible_date(digits[8:10], digits[10:12]):
            yield _Hit("id_number", start, end, digits)
    for m in _CARD_GROUPED.finditer(folded):
        yield _Hit("bank_card", m.start(), m.end(), _digits_key(m.group()))
    for m in _CARD_PLAIN.finditer(folded):
        digits = m.group()
        if _luhn_ok(digits) or _CARD_CONTEXT.search(folded, max(0, m.start() - 16), m.start()):
            yield _Hit("bank_card", m.start(), m.end(), digits)
    for m in _MOBILE.finditer(folded):
        yield _Hit("phone", m.start(), m.end(), _phone_key(m.group()))
    for m in _LANDLINE.finditer(folded):
        yield _Hit("phone", m.start(), m.end(), _phone_key(m.group()))
    for m in _EMAIL.finditer(folded):
        yield _Hit("email", m.start(), m.end(), m.group().lower())


def _literal_hits(folded: str, value: str, kind: ReplacementKind) -> Iterator[_Hit]:
    """Exact occurrences of a value known from the case (any format the case recorded)."""
    needle = _fold(value).strip()
    if len(needle) < 2:
        return
    key = _phone_key(needle) if kind == "phone" else _digits_key(needle)
    start = folded.find(needle)
    while start >= 0:
        yield _Hit(kind, start, start + len(needle), key)
        start = folded.find(needle, start + len(needle))


_ADMIN_LEVELS = "省市区县"
_COARSE_ENDINGS = (*_ADMIN_LEVELS, "州", "旗", "镇", "乡", "街道", "社区")


def _address_needles(address: str) -> list[str]:
    """A known address and its tails without the province, city and district (西安市碑林区东关
    南街88号 → 碑林区东关南街88号 → 东关南街88号): a text often repeats only the tail. A tail that
    names no more than an area (碑林区, 东关街道) is no one's address."""
    folded = _fold(address).strip()
    tails, segment_start = [folded], 0
    for i, ch in enumerate(folded):
        if ch in _ADMIN_LEVELS and i - segment_start >= 1:
            tails.append(folded[i + 1 :])
            segment_start = i + 1
    return [t for t in tails if len(t) >= 4 and not t.endswith(_COARSE_ENDINGS)]


def _is_organisation(name: str) -> bool:
    return name[-1] in _ORG_FINAL or any(word in name for word in _ORG_WORDS)


def _boundary_score(text: str, pos: int, run_end: int) -> float:
    """How surely a name ends at ``pos``; 0 when nothing suggests it does."""
    if pos >= run_end:
        return 1.5
    for word in _FOLLOW_WORDS:
        if text.startswith(word, pos):
            return 2.0 + len(word)
    if text[pos] in _FOLLOW_STRONG:
        return _SURE_BOUNDARY
    return 1.0 if text[pos] in _FOLLOW_WEAK else 0.0


def _name_after(text: str, pos: int) -> tuple[int, int] | None:
    """The span of a person's name starting at ``pos`` (just after a role marker), if any."""
    run = _CJK_RUN.match(text, pos)
    if run is None or len(run.group()) < 2:
        return None
    word = run.group()
    compound = word[:2] in COMPOUND_SURNAMES
    if not compound and (
        word[0] not in COMMON_SURNAMES or word[1] in _NOT_NAME_SECOND or word[:2] in _NOT_NAME_WORDS
    ):
        return None
    if word.startswith(_TITLES, 2 if compound else 1):
        return None
    # No boundary evidence within four characters means no guess: 于法定期限内 is not a name.
    # A candidate that runs past a sure boundary (王五与…, 张三不服…) loses to the shorter one.
    shortest = 3 if compound else 2
    best_score, length = 0.0, 0
    for length_try in range(shortest, min(4, len(word)) + 1):
        score = _boundary_score(text, pos + length_try, run.end())
        if score > best_score:
            best_score, length = score, length_try
        if score >= _SURE_BOUNDARY:
            break
    if not length:
        return None
    name = text[pos : pos + length]
    if "某" in name or _is_organisation(name):
        return None
    return pos, pos + length


def _marker_names(text: str, known: Sequence[str]) -> list[str]:
    found: list[str] = []
    for m in _MARKER_RE.finditer(text):
        pos = m.end()
        while True:
            # A known party's name is redacted anyway; it only tells where the name ends.
            end = next((pos + len(k) for k in known if text.startswith(k, pos)), None)
            if end is None:
                span = _name_after(text, pos)
                if span is None:
                    break
                end = span[1]
                if text[pos:end] not in found:
                    found.append(text[pos:end])
            # 申请人：张三、李四 — a list of names after one marker, each maybe with a title
            # (代理人：李明律师、王五律师).
            end += next((len(t) for t in _TITLES if text.startswith(t, end)), 0)
            if not text.startswith("、", end):
                break
            pos = end + 1
    return found


def _assign_pseudonyms(names: Sequence[str]) -> dict[str, str]:
    groups: dict[str, list[str]] = {}
    for name in names:
        members = groups.setdefault(pseudonym(name), [])
        if name not in members:
            members.append(name)
    out: dict[str, str] = {}
    for base, members in groups.items():
        if len(members) == 1:
            out[members[0]] = base
            continue
        for i, name in enumerate(members):
            suffix = _HEAVENLY_STEMS[i] if i < len(_HEAVENLY_STEMS) else str(i + 1)
            out[name] = base + suffix
    return out


def _protected_spans(folded: str, parties: Sequence[Party]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for party in parties:
        if party.kind == "organisation" and party.name.strip():
            for hit in _literal_hits(folded, party.name, "name"):
                spans.append((hit.start, hit.end))
    return spans


def _collect(
    text: str, parties: Sequence[Party], keep: Iterable[str]
) -> tuple[list[_Hit], dict[str, str]]:
    """The replacements to make in ``text`` (spans in ``text``), and the names' pseudonyms.

    Everything is found in the folded view of the text (see :func:`redact`), so a zero-width
    space inside a number or a name hides nothing; the spans are mapped back to the original."""
    view = _View.of(text)
    folded = view.text
    keep = [_fold(k).strip() for k in keep]
    keep_keys = {f(k) for k in keep if k for f in (_digits_key, _phone_key)}
    keep_names = {k for k in keep if k}

    hits = list(_number_hits(folded))
    for party in parties:
        if party.id_number:
            hits.extend(_literal_hits(folded, party.id_number, "id_number"))
        if party.phone:
            hits.extend(_literal_hits(folded, party.phone, "phone"))
        for needle in _address_needles(party.address or ""):
            hits.extend(_literal_hits(folded, needle, "address"))

    person_names = [
        name
        for p in parties
        if p.kind == "person" and (name := _fold(p.name).strip()) and name not in keep_names
    ]
    known = sorted({*person_names, *keep_names}, key=len, reverse=True)
    person_names += [n for n in _marker_names(folded, known) if n not in keep_names]
    names = _assign_pseudonyms(person_names)
    protected = _protected_spans(folded, parties)
    # Longer names first so 欧阳娜娜 is not split by a shorter party name inside it.
    for name in sorted(names, key=len, reverse=True):
        for hit in _literal_hits(folded, name, "name"):
            if not any(s < hit.end and hit.start < e for s, e in protected):
                hits.append(_Hit("name", hit.start, hit.end, name))

    hits = [h for h in hits if h.kind in ("name", "address") or h.key not in keep_keys]
    # Longest match wins an overlap (a phone with its extension over the bare phone), then the
    # stronger kind.
    hits.sort(key=lambda h: (-(h.end - h.start), _PRIORITY[h.kind], h.start))
    chosen: list[_Hit] = []
    for hit in hits:
        if all(hit.end <= c.start or c.end <= hit.start for c in chosen):
            chosen.append(hit)
    chosen.sort(key=lambda h: h.start)
    return [_Hit(h.kind, *view.span(h.start, h.end), h.key) for h in chosen], names


def _apply(
    text: str, hits: Sequence[_Hit], render: Callable[[_Hit, str], str]
) -> tuple[str, tuple[Replacement, ...]]:
    parts: list[str] = []
    replacements: list[Replacement] = []
    last = 0
    for hit in hits:
        new = render(hit, text[hit.start : hit.end])
        parts.append(text[last : hit.start])
        parts.append(new)
        replacements.append(Replacement(hit.kind, hit.start, hit.end, new))
        last = hit.end
    parts.append(text[last:])
    return "".join(parts), tuple(replacements)


def redact(text: str, parties: Sequence[Party] = (), *, keep: Iterable[str] = ()) -> Redacted:
    """The public version of ``text``: persons' names pseudonymised, numbers replaced by markers.

    Names follow Chinese court-document practice: surname + one 某 per given-name character
    (张三 → 张某, 李小明 → 李某某, 欧阳娜娜 → 欧阳某某; compound surnames from
    ``COMPOUND_SURNAMES``). Persons who would share a pseudonym get the heavenly stems in order
    (张某甲, 张某乙, …, then 张某11, 张某12, …): persons in ``parties`` in their given order,
    then names found after a role marker (``PERSON_MARKERS``, with "：", ":" or nothing between)
    in order of first appearance. Every occurrence of such a name is replaced. A name after a
    marker is taken only with evidence: a common surname (``COMMON_SURNAMES``) and, within four
    characters, the end of the Chinese run or a word that typically follows a name (不服, 与, 称…,
    or a title such as 律师, 主任, 副局长, which stays: 李明律师 → 李某律师; a surname directly
    followed by a title, 王主任, is no name); candidates ending like a unit (局, 村, 公司,
    街道…) are organisations and stay, as do all parties of kind "organisation". Names
    containing 某 are already redacted.

    Everything is matched on a folded view of the text, and the spans found are mapped back to
    the original: full-width ASCII as ASCII, every Unicode decimal digit (full-width １, Arabic-
    Indic ١, extended Arabic-Indic ۱, Devanagari १, …) as its ASCII digit, any space as " ", any
    dash or minus sign as "-", middle dots and bullets as ".", × as X, and invisible format
    characters (zero-width space, non-joiner and joiner, word joiner, BOM, soft hyphen, bidi
    marks, variation selectors) dropped, so that none of them hides a number or a name. Digit
    lookarounds, not ``\\b``, find digits glued to Chinese text. Between the digits of an ID
    number or a phone, up to three spaces, dots or dashes may stand anywhere (138.0013.8000,
    1 3 8 0 0 1 3 8 0 0 0, 610103-1985-0302-1234). Every run of 17 digits + digit/X is an ID
    number, checksum or not (a typo'd ID is still personal; no public document needs an 18-digit
    run), written whole or in its 6-8-4 groups; broken up elsewhere, 18 digits are an ID when
    they hold a YYYYMMDD birth date or a valid GB 11643 check character (so a list of dates is
    not one); 15 digits only with a plausible YYMMDD birth date, so 15-digit business
    registration numbers survive. Phones are mobiles (1[3-9]x, 11 digits, optional
    +86/86/0086) and landlines with an area code written whole (029-88123456, (029)88123456,
    02988123456, +86 29 8812 3456, 029.8812.3456, optional extension). Bank cards are 16-19
    digits grouped by four, or an ungrouped 16, 17 or 19 digit run that passes the Luhn check
    or closely follows 卡号/银行卡/账号/帐号/账户, so long serial numbers survive. A party's
    ``address`` is removed where the text repeats it, whole or without its leading province,
    city and district (a tail naming no more than an area is kept). Numbers and addresses become
    the uniform ``MARKERS``.

    ``keep`` lists names and numbers that must survive (an office's public hotline, the official
    who signs); a kept value is compared ignoring spaces, hyphens, brackets and a +86 prefix.
    """
    keep = tuple(keep)
    hits, names = _collect(text, parties, keep)

    def render(hit: _Hit, original: str) -> str:
        return names[hit.key] if hit.kind == "name" else MARKERS[hit.kind]

    new_text, replacements = _apply(text, hits, render)
    return Redacted(new_text, replacements)


def numbers_in(text: str) -> set[ReplacementKind]:
    """The kinds of personal number in ``text`` (ID numbers, phones, bank cards, e-mail
    addresses), found as :func:`redact` finds them, names and parties aside."""
    return {hit.kind for hit in _number_hits(_fold(text))}


FEWEST_DIGITS = 10
"""No phone or ID number has fewer digits: a landline is written with its 0, an area code of at
least two digits and a local number of at least seven; a mobile has 11, an ID number 15 or 18."""


# After folding, a phone or ID number is written with digits, the separators between them, and
# the brackets and plus of a dialling code: nothing else comes before its `FEWEST_DIGITS`th digit.
_NUMBER_RUN = re.compile(r"[0-9 .\-()+]+")


def phone_or_id_possible(text: str) -> bool:
    """False when ``text`` cannot hold a phone or an ID number: no run of the characters one is
    written with (after folding, which maps every decimal digit of any script to one ASCII digit)
    holds `FEWEST_DIGITS` digits. `bench-5f3a-0000123` holds none; `C-13991234567` does."""
    if sum(c.isdecimal() for c in text) < FEWEST_DIGITS:
        return False
    return any(
        sum(c.isdigit() for c in run) >= FEWEST_DIGITS for run in _NUMBER_RUN.findall(_fold(text))
    )


def contains_personal_data(text: str, parties: Sequence[Party] = ()) -> bool:
    """True if :func:`redact` would change ``text`` (the portal's and log filter's guard)."""
    return redact(text, parties).changed


def _mask(hit: _Hit, original: str) -> str:
    if hit.kind == "email":
        local, _, domain = original.partition("@")
        return local[:1] + "***@" + domain
    # Keep separators and length so a log reader still sees the shape of the value.
    if hit.kind == "address":
        return MARKERS["address"]
    secret = "0123456789Xx" if hit.kind == "id_number" else "0123456789"
    return "".join("*" if len(f := _fold(c)) == 1 and f in secret else c for c in original)


def mask_for_log(value: str, parties: Sequence[Party] = ()) -> str:
    """``value`` for a log line: ID, phone and bank digits as ``*``, e-mail and names hidden."""
    hits, names = _collect(value, parties, ())

    def render(hit: _Hit, original: str) -> str:
        return names[hit.key] if hit.kind == "name" else _mask(hit, original)

    return _apply(value, hits, render)[0]
