"""The statutory periods, one named rule each: the law, the article, calendar or working days, the extension. A changed law is one edit here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType


class DayUnit(StrEnum):
    CALENDAR = "calendar"
    WORKING = "working"


class ClockError(ValueError):
    """An operation the rule or the clock's state does not allow."""


@dataclass(frozen=True)
class Rule:
    """A statutory period. ``minimum`` marks an "at least N days" period, whose due
    date is the earliest day it may end rather than a deadline."""

    name: str
    title: str
    law: str
    article: str
    days: int
    unit: DayUnit
    extension_days: int | None = None
    minimum: bool = False


_ARL88 = "第八十八条第二款"
_OGI = "政府信息公开条例（2019）"
_ARL = "行政复议法（2023）"
_PWR = "信访工作条例（2022）"
_ALL = "行政诉讼法（2017）"
_MDR = "重大行政决策程序暂行条例（2019）"

RULES: Mapping[str, Rule] = MappingProxyType(
    {
        r.name: r
        for r in (
            Rule(
                "disclosure.reply",
                "政府信息公开申请答复 disclosure request reply",
                _OGI,
                "第三十三条第二款",
                20,
                DayUnit.WORKING,
                extension_days=20,
            ),
            Rule(
                "disclosure.correction",
                "政府信息公开申请补正告知 notice to correct a disclosure request",
                _OGI,
                "第三十条",
                7,
                DayUnit.WORKING,
            ),
            Rule(
                "disclosure.third_party",
                "第三方意见征询 third-party consultation reply",
                _OGI,
                "第三十二条",
                15,
                DayUnit.WORKING,
            ),
            Rule(
                "disclosure.agency_consultation",
                "共同制作机关意见征询 co-authoring agency consultation reply",
                _OGI,
                "第三十四条",
                15,
                DayUnit.WORKING,
            ),
            Rule(
                "publication.proactive",
                "政府信息主动公开 proactive publication",
                _OGI,
                "第二十六条",
                20,
                DayUnit.WORKING,
            ),
            Rule(
                "reconsideration.acceptance",
                "行政复议受理审查 reconsideration acceptance review",
                _ARL,
                f"第三十条第一款、{_ARL88}",
                5,
                DayUnit.WORKING,
            ),
            Rule(
                "reconsideration.correction",
                "行政复议补正通知 notice to correct a reconsideration application",
                _ARL,
                f"第三十一条第一款、{_ARL88}",
                5,
                DayUnit.WORKING,
            ),
            Rule(
                "reconsideration.reply.general",
                "被申请人书面答复（普通程序） respondent's written reply (general procedure)",
                _ARL,
                f"第四十八条、{_ARL88}",
                10,
                DayUnit.WORKING,
            ),
            Rule(
                "reconsideration.reply.simplified",
                "被申请人书面答复（简易程序） respondent's written reply (simplified procedure)",
                _ARL,
                f"第五十四条第一款、{_ARL88}",
                5,
                DayUnit.WORKING,
            ),
            Rule(
                "reconsideration.decision.general",
                "行政复议决定（普通程序） reconsideration decision (general procedure)",
                _ARL,
                "第六十二条第一款",
                60,
                DayUnit.CALENDAR,
                extension_days=30,
            ),
            Rule(
                "reconsideration.decision.simplified",
                "行政复议决定（简易程序） reconsideration decision (simplified procedure)",
                _ARL,
                "第六十二条第二款",
                30,
                DayUnit.CALENDAR,
            ),
            # Art. 77 binds the respondent to carry a decision out but sets no period (art. 66
            # leaves it to the decision); execution is tracked against art. 76's 60 days, the
            # period the same law gives a unit to report the correction an opinion asks for.
            Rule(
                "reconsideration.execution",
                "行政复议决定履行 carrying out a reconsideration decision",
                _ARL,
                "第七十七条、第七十六条",
                60,
                DayUnit.CALENDAR,
            ),
            Rule(
                "petition.acceptance",
                "信访事项受理告知 petition acceptance notice",
                _PWR,
                "第二十三条第二款、第三款",
                15,
                DayUnit.CALENDAR,
            ),
            Rule(
                "petition.transfer_objection",
                "转送交办信访事项异议 objection to a misdirected petition transfer",
                _PWR,
                "第二十三条第三款",
                5,
                DayUnit.WORKING,
            ),
            Rule(
                "petition.handling",
                "信访事项办理 petition handling",
                _PWR,
                "第三十四条",
                60,
                DayUnit.CALENDAR,
                extension_days=30,
            ),
            Rule(
                "petition.review",
                "信访事项复查 petition review",
                _PWR,
                "第三十五条",
                30,
                DayUnit.CALENDAR,
            ),
            Rule(
                "petition.rereview",
                "信访事项复核 petition re-review",
                _PWR,
                "第三十六条第一款",
                30,
                DayUnit.CALENDAR,
            ),
            Rule(
                "litigation.defence",
                "行政诉讼答辩 defence filing in administrative litigation",
                _ALL,
                "第六十七条第一款",
                15,
                DayUnit.CALENDAR,
            ),
            # Art. 96(4) makes the unit answer a judicial recommendation without a period;
            # the two months of a procuratorial one (检察建议工作规定 art. 19) are counted as
            # 60 days for both.
            Rule(
                "litigation.reply",
                "司法建议、检察建议回复 reply to a judicial or procuratorial recommendation",
                _ALL,
                "第九十六条第（四）项",
                60,
                DayUnit.CALENDAR,
            ),
            Rule(
                "decision.public_comment",
                "重大行政决策公开征求意见 public comment on a major decision",
                _MDR,
                "第十五条第一款",
                30,
                DayUnit.CALENDAR,
                minimum=True,
            ),
            Rule(
                "decision.legality_review",
                "重大行政决策合法性审查 legality review of a major decision",
                _MDR,
                "第二十六条第二款",
                7,
                DayUnit.WORKING,
                minimum=True,
            ),
        )
    }
)


def get_rule(name: str) -> Rule:
    try:
        return RULES[name]
    except KeyError:
        known = ", ".join(sorted(RULES))
        raise ClockError(f"unknown clock rule {name!r}; known rules: {known}") from None
