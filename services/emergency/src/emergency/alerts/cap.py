"""An alert message as OASIS CAP 1.2 XML (`urn:oasis:names:tc:emergency:cap:1.2`), built with
lxml from its stored document. CAP's codes are English; the words are the unit's, in zh-CN."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lxml import etree
from lxml.builder import ElementMaker

from emergency.domain import MessageStatus
from fazhi.contracts.emergency import AlertLevel, CapStatus, MsgType
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.rules import UnknownUnitError, get_unit

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
SENDER_DOMAIN = "beilin.fazhi"
"""Senders are `<unit code>@beilin.fazhi`: unique per issuing unit, as CAP asks."""

SEVERITY = {
    AlertLevel.RED: "Extreme",
    AlertLevel.ORANGE: "Severe",
    AlertLevel.YELLOW: "Moderate",
    AlertLevel.BLUE: "Minor",
}
URGENCY = {
    AlertLevel.RED: "Immediate",
    AlertLevel.ORANGE: "Immediate",
    AlertLevel.YELLOW: "Expected",
    AlertLevel.BLUE: "Expected",
}
CATEGORIES = (
    (("气象", "暴雨", "台风", "高温", "寒潮", "大风", "雷电", "冰雹", "大雾", "霾", "暴雪"), "Met"),
    (("地震", "地质", "滑坡", "泥石流", "塌陷"), "Geo"),
    (("火灾", "森林火", "消防"), "Fire"),
    (("卫生", "疫情", "传染", "食品", "中毒"), "Health"),
    (("环境", "污染", "水质"), "Env"),
    (("交通", "道路", "铁路", "航空"), "Transport"),
    (("供水", "供电", "燃气", "通信", "基础设施"), "Infra"),
    (("危险化学", "化学", "核", "放射", "爆炸"), "CBRNE"),
    (("社会安全", "治安", "恐怖"), "Security"),
    (("救援",), "Rescue"),
    (("安全", "事故", "洪水", "洪涝", "内涝", "防汛"), "Safety"),
)


def cap_category(category: str) -> str:
    """The CAP category of a category in words (`暴雨` → `Met`), `Other` when none fits."""
    for words, code in CATEGORIES:
        if any(word in category for word in words):
            return code
    return "Other"


def cap_time(at: datetime) -> str:
    """CAP's dateTime: seconds, an explicit offset, no fraction (`2026-07-20T14:00:00+08:00`)."""
    return at.astimezone(CHINA_TZ).replace(microsecond=0).isoformat()


def sender(unit: str) -> str:
    return f"{unit}@{SENDER_DOMAIN}"


def unit_name(unit: str) -> str:
    try:
        return get_unit(unit).name
    except UnknownUnitError:
        return unit


def to_cap(doc: Mapping[str, Any], referenced: Sequence[Mapping[str, Any]]) -> bytes:
    """The CAP 1.2 document of one stored message; `referenced` are the stored messages it
    names in `references` (CAP names each as `sender,identifier,sent`)."""
    unit = str(doc.get("unit") or (doc.get("owner_units") or ["unknown"])[0])
    status = CapStatus(doc["cap_status"])
    msg_type = MsgType(doc["msg_type"])
    level = AlertLevel(doc["level"])
    e = ElementMaker(namespace=CAP_NS, nsmap={None: CAP_NS})
    alert = e.alert(
        e.identifier(doc["_id"]),
        e.sender(sender(unit)),
        e.sent(cap_time(doc["sent"])),
        e.status(status.value.capitalize()),
        e.msgType(msg_type.value.capitalize()),
        # Only actual warnings are for the public: drills and tests stay with the staff.
        e.scope("Public" if status is CapStatus.ACTUAL else "Restricted"),
    )
    if status is not CapStatus.ACTUAL:
        alert.append(e.restriction(f"{status.label_zh}，仅限应急工作人员"))
    if doc.get("status") == MessageStatus.EXPIRED:
        alert.append(e.note("已过期"))
    if referenced:
        alert.append(
            e.references(
                " ".join(
                    f"{sender(str(r.get('unit') or unit))},{r['_id']},{cap_time(r['sent'])}"
                    for r in referenced
                )
            )
        )
    info = e.info(
        e.language("zh-CN"),
        e.category(cap_category(doc["category"])),
        e.event(doc["category"]),
        e.urgency("Past" if msg_type is MsgType.CANCEL else URGENCY[level]),
        e.severity(SEVERITY[level]),
        e.certainty("Observed" if msg_type is MsgType.CANCEL else "Likely"),
        e.effective(cap_time(doc["effective"])),
        e.expires(cap_time(doc["expires"])),
        e.senderName(unit_name(unit)),
        e.headline(doc["headline"]),
    )
    if doc.get("description"):
        info.append(e.description(doc["description"]))
    if doc.get("instruction"):
        info.append(e.instruction(doc["instruction"]))
    info.append(
        e.parameter(e.valueName("预警级别"), e.value(f"{level.label_zh}（{level.aliases[0]}）"))
    )
    info.append(e.area(e.areaDesc(doc.get("area") or "碑林区")))
    alert.append(info)
    return bytes(etree.tostring(alert, xml_declaration=True, encoding="UTF-8", pretty_print=True))
