"""`make demo`: a week of the district posted over HTTP as its department systems would.

Each unit posts its own events (CloudEvents, `POST /v1/events` of the owning service) with its
demo key from `.local/demo-keys.json`: progress reports and completed milestones, an inspection
finding and its rectification, an orange rainstorm alert updated to red and cancelled, a red
heavy-pollution alert still in force, incidents with their response levels, petitions, a
mediation across channels, a reconsideration through to its published decision, disclosure
requests with a correction, a consultation and an extension, normative documents numbered by the
registry, an amendment and a repeal, and major decisions through their procedure steps.

Every payload is built with its contract's model (`fazhi.contracts.*`), so it validates before it
is sent. Event ids are uuid5 of a name, so the week is posted once: an event whose receipt says
it was applied (or is a duplicate) is skipped, and a second run posts nothing. At the end the
script waits for every receipt and prints how many were applied, skipped and refused (refused:
exit status 1).

    python scripts/demo.py            # the `make run` stack (ports of fazhi.topology)
    python scripts/demo.py --live     # the same, spread over about three minutes
    python scripts/demo.py --target test --keys FILE   # the tests' ports (FAZHI_DEMO_TARGET)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from fazhi import topology
from fazhi.contracts import contract_of, topic_of, type_of
from fazhi.contracts import emergency as em
from fazhi.contracts import mediation as me
from fazhi.contracts import opengov as og
from fazhi.contracts import supervision as su
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.contracts.models import Applicant, Payload

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = uuid.UUID("6d1f3c2a-8f4e-5b7a-9c0d-1e2f3a4b5c6d")
"""The namespace of the demo's event ids (uuid5 of each step's name)."""
STAFF_ID = "staff-007"
"""The duty officer of 区应急管理局 who acknowledges alerts in the demo."""
LIVE_SECONDS = 180.0
"""How long `--live` spreads the week over."""


@dataclass(frozen=True)
class Step:
    """One event of the week: what happened (`data`), who posts it and when."""

    name: str
    """Stable within the demo: the event's id is uuid5(NAMESPACE, name)."""
    unit: str
    """The unit whose system posts it (the CloudEvent's source)."""
    data: Payload
    at: datetime
    role: str = "department"
    """The key it is posted with: the unit's department key, or the staff/supervisor key."""
    after: str | None = None
    """A list (path on the step's own service) that must hold something before it is posted:
    what the platform derives (an item opened for a finding) is on the topic only a moment after
    its cause is applied, and the step is about it."""

    @property
    def id(self) -> str:
        return str(uuid.uuid5(NAMESPACE, self.name))

    @property
    def type(self) -> str:
        return type_of(type(self.data))

    @property
    def topic(self) -> str:
        return topic_of(type(self.data))

    def cloudevent(self) -> dict[str, Any]:
        contract = contract_of(type(self.data))
        return {
            "specversion": "1.0",
            "id": self.id,
            "source": f"/units/{self.unit}",
            "type": self.type,
            "subject": str(getattr(self.data, contract.aggregate)),
            "time": self.at.isoformat(),
            "datacontenttype": "application/json",
            "data": self.data.model_dump(mode="json", exclude_defaults=True),
        }


Numbers = Callable[[str, str, int], str]
"""(document id, issuing unit, year) → its number from the registry."""


def week(now: datetime, number: Numbers) -> list[Step]:
    """The district's week up to `now`, oldest first."""
    steps: list[Step] = []

    def at(days: float, hours: float = 0) -> datetime:
        """`days` and `hours` before now."""
        return now - timedelta(days=days, hours=hours)

    def day(days: float) -> date:
        return at(days).date()

    def five_years(start: date) -> date:
        """The validity of a normative document: five years (29 February gives the 28th)."""
        leap_day = (start.month, start.day) == (2, 29)
        return date(start.year + 5, start.month, 28 if leap_day else start.day)

    def add(
        name: str,
        unit: str,
        data: Payload,
        when: datetime,
        role: str = "department",
        after: str | None = None,
    ) -> None:
        steps.append(Step(name, unit, data, when, role, after))

    def event_id(name: str) -> str:
        return str(uuid.uuid5(NAMESPACE, name))

    # ---- supervision 督查督办: the plan's units report, milestones completed, a finding
    progress = [
        ("M04-T1", "justice", 70, "规范性文件统一登记、编号、发布平台已上线试运行", 6.6),
        ("M18-T1", "justice", 85, "复议职责整合完成，行政复议决定书网上公开已上线", 6.4),
        ("M23-T2", "gov-office", 60, "街道政务公开标准目录编制完成5个，剩余3个本月完成", 5.8),
        ("M13-T2", "emergency-management", 75, "监测预警与信息报告流程已修订，待印发", 5.5),
        ("M16-T1", "market-regulation", 50, "消费领域行政调解室在3个街道挂牌", 4.7),
        ("M12-T2", "urban-management", 40, "城管领域轻微违法行为免予处罚清单已起草", 3.6),
        ("M02-T1", "approval", 90, "“五办”审批服务事项覆盖率达到92%", 2.5),
        ("M04-T1", "justice", 95, "统一编号已覆盖全部区级规范性文件", 1.4),
    ]
    for task, unit, pct, note, ago in progress:
        reported = at(ago)
        add(
            f"progress/{task}/{pct}",
            unit,
            su.TaskProgressReported(
                task_id=task, unit=unit, progress_pct=pct, note=note, reported_at=reported
            ),
            reported,
        )
    completed = [
        (
            "M18-D1",
            "justice",
            "行政复议体制改革已完成，区政府统一行使复议职责（附改革方案及验收意见）",
            5.2,
        ),
        ("M04-D1", "justice", "规范性文件“三统一”制度全面落实，附登记台账及平台截图", 3.2),
        ("M13-D1", "emergency-management", "区级总体预案及23项专项预案修订完成并备案", 2.2),
        ("M23-D1", "gov-office", "2025年度政府信息公开工作年度报告已按时公开", 0.8),
    ]
    for task, unit, evidence, ago in completed:
        done = at(ago)
        add(
            f"completed/{task}",
            unit,
            su.TaskCompleted(task_id=task, unit=unit, completed_at=done, evidence=evidence),
            done,
        )
    add(
        "training/justice-study",
        "justice",
        su.TrainingRecorded(
            training_id="TR-JUSTICE-W49",
            unit="justice",
            kind=su.TrainingKind.STUDY,
            title="行政复议法修订专题培训（复议、执法人员）",
            study_hours=16,
            held_on=day(4),
        ),
        at(4, -3),
    )
    add(
        "training/lecture",
        "gov-office",
        su.TrainingRecorded(
            training_id="TR-GOV-LECTURE-2",
            unit="gov-office",
            kind=su.TrainingKind.LECTURE,
            title="区政府常务会议会前学法：突发事件应对法",
            study_hours=2,
            held_on=day(2),
        ),
        at(2, -2),
    )
    findings = [
        (
            "F-W49-01",
            "urban-management",
            "占道经营执法案卷记录不全，执法全过程记录未落实",
            su.ItemLevel.ORANGE,
            5.0,
            15,
        ),
        (
            "F-W49-02",
            "housing-construction",
            "老旧小区改造项目招标文件未经合法性审核",
            su.ItemLevel.YELLOW,
            3.1,
            20,
        ),
        (
            "F-W49-03",
            "market-regulation",
            "行政处罚决定公示超过法定期限",
            su.ItemLevel.BLUE,
            4.2,
            10,
        ),
    ]
    for finding, target, title, level, ago, due_days in findings:
        recorded = at(ago)
        add(
            f"finding/{finding}",
            "rule-of-law-office",
            su.FindingRecorded(
                finding_id=finding,
                target_unit=target,
                title=title,
                description="区委依法治区办法治督察发现，请按期整改并报送整改报告。",
                level=level,
                due_date=day(ago) + timedelta(days=due_days),
                recorded_at=recorded,
            ),
            recorded,
            role="supervisor",
        )
    add(
        "rectified/F-W49-03",
        "market-regulation",
        su.ItemRectified(
            item_id="finding-F-W49-03",
            unit="market-regulation",
            rectified_at=at(2.3),
            note="已补充公示逾期的12件行政处罚决定，建立公示时限提醒。",
        ),
        at(2.3),
        after=f"/v1/items?source_event_id={event_id('finding/F-W49-03')}",
    )
    add(
        "accepted/F-W49-03",
        "rule-of-law-office",
        su.ItemAccepted(
            item_id="finding-F-W49-03", accepted_at=at(1.2), note="经核查整改到位，予以销号。"
        ),
        at(1.2),
        role="supervisor",
    )
    # A rectification reported and left for the supervisor: the dashboard's 待验收 (the tour).
    add(
        "rectified/F-W49-02",
        "housing-construction",
        su.ItemRectified(
            item_id="finding-F-W49-02",
            unit="housing-construction",
            rectified_at=at(0.6),
            note="已补做招标文件合法性审核，修订招标公告资格条件，建立重大合同审核台账。",
        ),
        at(0.6),
        after=f"/v1/items?source_event_id={event_id('finding/F-W49-02')}",
    )

    # ---- emergency 突发事件应对: the rainstorm, an incident with its response, the alerts
    storm_effective = at(5, 4)
    orange = em.AlertIssued(
        alert_id="BL-ALERT-RAIN-01",
        msg_type=em.MsgType.ALERT,
        level=em.AlertLevel.ORANGE,
        category="气象",
        headline="碑林区暴雨橙色预警",
        description="预计未来6小时内碑林区将出现50毫米以上强降水，局地伴有雷电和短时大风。",
        area="碑林区全域",
        effective=storm_effective,
        expires=storm_effective + timedelta(hours=12),
        instruction="各街道做好防汛准备，关注低洼路段、地下通道和危旧房屋，必要时转移群众。",
    )
    add("alert/rain/orange", "emergency-management", orange, storm_effective)
    add(
        "ack/rain/orange",
        "emergency-management",
        em.AlertAcknowledged(
            alert_id=orange.alert_id,
            staff_id=STAFF_ID,
            acknowledged_at=storm_effective + timedelta(minutes=4),
        ),
        storm_effective + timedelta(minutes=4),
        role="staff",
    )
    red_at = storm_effective + timedelta(hours=3)
    red = em.AlertIssued(
        alert_id="BL-ALERT-RAIN-02",
        msg_type=em.MsgType.UPDATE,
        references=[orange.alert_id],
        level=em.AlertLevel.RED,
        category="气象",
        headline="碑林区暴雨橙色预警升级为红色预警",
        description="过去3小时碑林区普遍出现60毫米以上降水，预计强降水仍将持续。",
        area="碑林区全域",
        effective=red_at,
        expires=red_at + timedelta(hours=12),
        instruction="停止户外集体活动，地下商场、地下车库做好封堵，危险区域人员立即转移。",
    )
    add("alert/rain/red", "emergency-management", red, red_at)
    flood = "BL-INC-FLOOD-01"
    add(
        "incident/flood/reported",
        "emergency-management",
        em.IncidentReported(
            incident_id=flood,
            category=em.IncidentCategory.NATURAL_DISASTER,
            kind="暴雨内涝",
            grade=em.Grade.RELATIVELY_SERIOUS,
            title="长安路南段及文艺路沿线严重积水",
            location="碑林区长安路南段、文艺路沿线",
            occurred_at=red_at + timedelta(minutes=20),
        ),
        red_at + timedelta(minutes=25),
    )
    for n, (response, hours, scope, measures) in enumerate(
        [
            (
                em.ResponseLevel.IV,
                0.5,
                "长安路街道、文艺路街道",
                ["启动防汛四级应急响应", "排水抢险队伍到位"],
            ),
            (
                em.ResponseLevel.III,
                2,
                "碑林区全域",
                ["升级为三级应急响应", "交通管制长安路隧道", "转移安置低洼区域群众"],
            ),
        ]
    ):
        changed = red_at + timedelta(hours=hours)
        add(
            f"incident/flood/level/{n}",
            "emergency-management",
            em.ResponseLevelChanged(
                incident_id=flood,
                level=response,
                changed_at=changed,
                scope=scope,
                expected_hours=24,
                measures=measures,
            ),
            changed,
        )
    cancel_at = red_at + timedelta(hours=10)
    add(
        "alert/rain/cancel",
        "emergency-management",
        em.AlertIssued(
            alert_id="BL-ALERT-RAIN-03",
            msg_type=em.MsgType.CANCEL,
            references=[orange.alert_id, red.alert_id],
            level=em.AlertLevel.RED,
            category="气象",
            headline="碑林区暴雨红色预警解除",
            description="降水过程已结束，暴雨红色预警解除。",
            area="碑林区全域",
            effective=cancel_at,
            expires=cancel_at + timedelta(hours=1),
        ),
        cancel_at,
    )
    add(
        "incident/flood/ended",
        "emergency-management",
        em.ResponseEnded(
            incident_id=flood, ended_at=cancel_at + timedelta(hours=1), note="积水已全部排除"
        ),
        cancel_at + timedelta(hours=1),
    )
    add(
        "incident/flood/closed",
        "emergency-management",
        em.IncidentClosed(
            incident_id=flood,
            closed_at=at(1.5),
            assessment="调查评估：本次暴雨内涝未造成人员伤亡，转移群众126人，"
            "长安路隧道排水能力不足，建议纳入明年城市排水改造。",
        ),
        at(1.5),
    )
    gas = "BL-INC-GAS-01"
    add(
        "incident/gas/reported",
        "fire-rescue",
        em.IncidentReported(
            incident_id=gas,
            category=em.IncidentCategory.ACCIDENT,
            kind="燃气泄漏",
            grade=em.Grade.GENERAL,
            title="东关南街一居民楼燃气管道泄漏",
            location="碑林区东关南街",
            occurred_at=at(0, 5),
        ),
        at(0, 5),
    )
    add(
        "incident/gas/level",
        "fire-rescue",
        em.ResponseLevelChanged(
            incident_id=gas,
            level=em.ResponseLevel.IV,
            changed_at=at(0, 4.8),
            scope="东关南街街道相关居民楼",
            expected_hours=6,
            measures=["疏散楼内居民", "关闭燃气总阀", "设置警戒区"],
        ),
        at(0, 4.8),
    )
    add(
        "incident/road/reported",
        "urban-management",
        em.IncidentReported(
            incident_id="BL-INC-ROAD-01",
            category=em.IncidentCategory.ACCIDENT,
            kind="路面塌陷",
            grade=em.Grade.GENERAL,
            title="太乙路一处人行道路面塌陷",
            location="碑林区太乙路",
            occurred_at=at(0, 2),
        ),
        at(0, 2),
    )
    ice_at = at(0, 3)
    add(
        "alert/ice/yellow",
        "emergency-management",
        em.AlertIssued(
            alert_id="BL-ALERT-ICE-01",
            msg_type=em.MsgType.ALERT,
            level=em.AlertLevel.YELLOW,
            category="气象",
            headline="碑林区道路结冰黄色预警",
            description="受寒潮影响，今夜到明晨部分路段将出现道路结冰。",
            area="碑林区全域",
            effective=ice_at,
            expires=ice_at + timedelta(days=1),
            instruction="车辆减速慢行，行人注意防滑。",
        ),
        ice_at,
    )
    smog_at = at(0, 1)
    add(
        "alert/smog/red",
        "ecology-environment",
        em.AlertIssued(
            alert_id="BL-ALERT-SMOG-01",
            msg_type=em.MsgType.ALERT,
            level=em.AlertLevel.RED,
            category="重污染天气",
            headline="碑林区重污染天气红色预警",
            description="受不利气象条件影响，预计未来72小时空气质量指数日均值将超过200。",
            area="碑林区全域",
            effective=smog_at,
            expires=smog_at + timedelta(days=3),
            instruction="启动一级应急响应：停止室外施工作业，中小学停止户外活动。",
        ),
        smog_at,
    )

    # ---- petition-mediation 矛盾纠纷调处
    rc = "BL-FY-2026-031"
    add(
        "case/reconsideration/filed",
        "justice",
        me.CaseFiled(
            case_id=rc,
            case_type=me.CaseType.RECONSIDERATION,
            category="行政处罚",
            applicant=Applicant(name="陈建国", id_number="610103197806152317", phone="13709181234"),
            respondent_unit="market-regulation",
            summary="申请人陈建国不服区市场监管局作出的罚款5000元的行政处罚决定，申请行政复议。",
            filed_at=at(6.5),
        ),
        at(6.5),
    )
    add(
        "case/reconsideration/accepted",
        "justice",
        me.CaseAccepted(case_id=rc, accepted_at=at(6.2), procedure=me.Procedure.GENERAL),
        at(6.2),
    )
    add(
        "case/reconsideration/decided",
        "justice",
        me.CaseDecided(
            case_id=rc,
            decision="撤销原行政处罚决定",
            decided_at=at(3),
            document_text="申请人陈建国（电话13709181234）不服被申请人区市场监管局作出的行政处罚"
            "决定。经审理，被申请人认定事实不清、证据不足。根据《中华人民共和国行政复议法》"
            "第六十四条，决定撤销该行政处罚决定，责令被申请人在三十日内重新作出处理。",
            outcome=me.Outcome.REVOKED,
        ),
        at(3),
    )
    add(
        "case/reconsideration/executed",
        "market-regulation",
        me.DecisionExecuted(case_id=rc, executed_at=at(1), note="已撤销原处罚决定并退还罚款"),
        at(1),
    )
    rc2 = "BL-FY-2026-034"
    add(
        "case/reconsideration2/filed",
        "justice",
        me.CaseFiled(
            case_id=rc2,
            case_type=me.CaseType.RECONSIDERATION,
            category="政府信息公开",
            applicant=Applicant(name="刘芳", phone="18691827364"),
            respondent_unit="housing-construction",
            summary="申请人不服区住建局政府信息公开答复。",
            filed_at=at(4),
        ),
        at(4),
    )
    add(
        "case/reconsideration2/correction",
        "justice",
        me.CorrectionRequested(case_id=rc2, requested_at=at(3.5)),
        at(3.5),
    )
    add(
        "case/reconsideration2/corrected",
        "justice",
        me.CaseCorrected(case_id=rc2, received_at=at(1.8)),
        at(1.8),
    )
    add(
        "case/reconsideration2/accepted",
        "justice",
        me.CaseAccepted(
            case_id=rc2,
            accepted_at=at(0.9),
            procedure=me.Procedure.SIMPLIFIED,
            simplified_ground=me.SimplifiedGround.OPEN_GOVERNMENT,
        ),
        at(0.9),
    )
    petition = "BL-XF-2026-118"
    add(
        "case/petition/filed",
        "street-nanyuanmen",
        me.CaseFiled(
            case_id=petition,
            case_type=me.CaseType.PETITION,
            category="城市管理",
            applicant=Applicant(name="王秀兰", phone="13571234567"),
            respondent_unit="urban-management",
            summary="反映南院门某小区周边餐饮油烟扰民、夜间噪声问题。",
            filed_at=at(5.6),
        ),
        at(5.6),
    )
    add(
        "case/petition/accepted",
        "street-nanyuanmen",
        me.CaseAccepted(case_id=petition, accepted_at=at(5.1)),
        at(5.1),
    )
    add(
        "case/petition/decided",
        "street-nanyuanmen",
        me.CaseDecided(
            case_id=petition,
            decision="信访事项处理意见：责令商户加装油烟净化设施",
            decided_at=at(1.1),
            document_text="经调查核实，反映问题属实。区城管局已责令相关商户限期加装油烟净化设施，"
            "夜间22时后停止室外经营。",
        ),
        at(1.1),
    )
    add(
        "case/petition2/filed",
        "street-wenyilu",
        me.CaseFiled(
            case_id="BL-XF-2026-121",
            case_type=me.CaseType.PETITION,
            category="住房保障",
            applicant=Applicant(name="赵明", phone="15029876543"),
            respondent_unit="housing-construction",
            summary="反映公租房分配排序不透明，请求公开轮候名单。",
            filed_at=at(2.7),
        ),
        at(2.7),
    )
    mediation = "BL-TJ-2026-057"
    add(
        "case/mediation/filed",
        "market-regulation",
        me.CaseFiled(
            case_id=mediation,
            case_type=me.CaseType.MEDIATION,
            category="消费纠纷",
            applicant=Applicant(name="孙丽", phone="13891230000"),
            respondent_unit="market-regulation",
            summary="消费者与某健身机构就预付卡退费发生纠纷，申请行政调解。",
            filed_at=at(5.9),
        ),
        at(5.9),
    )
    add(
        "case/mediation/accepted",
        "market-regulation",
        me.CaseAccepted(case_id=mediation, accepted_at=at(5.7)),
        at(5.7),
    )
    add(
        "case/mediation/referred",
        "market-regulation",
        me.CaseReferred(
            case_id=mediation,
            referred_at=at(4.4),
            to_channel=me.Channel.PEOPLES,
            body="长安路街道人民调解委员会",
        ),
        at(4.4),
    )
    add(
        "case/mediation/accepted-peoples",
        "market-regulation",
        me.CaseAccepted(case_id=mediation, accepted_at=at(4.2)),
        at(4.2),
    )
    add(
        "case/mediation/decided",
        "market-regulation",
        me.CaseDecided(
            case_id=mediation,
            decision="达成调解协议：退还剩余预付款3200元",
            decided_at=at(2.1),
            document_text="经人民调解委员会主持调解，双方自愿达成协议，健身机构于7日内退还剩余预付款。",
        ),
        at(2.1),
    )

    # ---- open-government 政务公开: documents, requests, major decisions
    year = now.year
    normative = [
        (
            "BL-GF-2026-07",
            "gov-office",
            "碑林区行政规范性文件管理办法",
            "第一条 为加强行政规范性文件管理，推进依法行政，根据《陕西省行政规范性文件制定和"
            "监督管理办法》，结合本区实际，制定本办法。\n第二条 行政规范性文件实行统一登记、"
            "统一编号、统一发布。\n第三条 未经合法性审核或者审核未通过的，不得提交集体审议。",
            6,
        ),
        (
            "BL-GF-2026-08",
            "urban-management",
            "碑林区城市管理领域轻微违法行为不予处罚清单",
            "第一条 为推行包容审慎监管，对首次违法、危害后果轻微并及时改正的城市管理违法行为，"
            "依法不予行政处罚。\n第二条 清单共列明事项15项，详见附件。",
            5,
        ),
        (
            "BL-GF-2026-09",
            "justice",
            "碑林区行政执法全过程记录实施办法",
            "第一条 为规范行政执法行为，落实行政执法全过程记录制度，制定本办法。\n第二条 "
            "行政执法机关应当对执法全过程进行文字、音像记录，做到全过程留痕和可回溯管理。",
            4,
        ),
    ]
    for doc_id, unit, title, body, ago in normative:
        published = at(ago)
        add(
            f"document/{doc_id}/published",
            unit,
            og.DocumentPublished(
                document_id=doc_id,
                doc_kind=og.DocKind.NORMATIVE,
                title=title,
                number=number(doc_id, unit, year),
                issuing_unit=unit,
                body=body,
                published_at=published,
                made_on=day(ago + 2),
                valid_from=day(ago),
                valid_until=five_years(day(ago)),
            ),
            published,
        )
        # The review results are recorded once the document is on the register (the platform
        # refuses a review of a document it does not know).
        add(
            f"document/{doc_id}/legality",
            unit,
            og.DocumentReviewed(
                document_id=doc_id,
                review=og.Review.LEGALITY,
                result=og.ReviewResult.PASSED,
                reviewed_at=published + timedelta(hours=1),
                note="区司法局合法性审核通过（审核意见书随文存档）",
            ),
            published + timedelta(hours=1),
        )
        add(
            f"document/{doc_id}/filing",
            unit,
            og.DocumentReviewed(
                document_id=doc_id,
                review=og.Review.FILING,
                result=og.ReviewResult.SUBMITTED,
                reviewed_at=published + timedelta(hours=5),
                note="已报区人大常委会备案",
            ),
            published + timedelta(hours=5),
        )
    amended_id, amended_unit, amended_title, amended_body, _ = normative[0]
    add(
        f"document/{amended_id}/amended",
        amended_unit,
        og.DocumentPublished(
            document_id=amended_id,
            doc_kind=og.DocKind.NORMATIVE,
            title=amended_title,
            number=number(amended_id, amended_unit, year),
            issuing_unit=amended_unit,
            body=amended_body + "\n第四条 制定涉企行政规范性文件，应当听取企业和行业协会商会意见。",
            published_at=at(1.3),
            made_on=day(1.5),
            valid_from=day(1.3),
            valid_until=five_years(day(6)),
            version_note="增加第四条：涉企文件听取企业和行业协会商会意见",
        ),
        at(1.3),
    )
    old = "BL-GF-2019-03"
    add(
        "document/old/published",
        "justice",
        og.DocumentPublished(
            document_id=old,
            doc_kind=og.DocKind.NORMATIVE,
            title="碑林区行政执法公示办法（试行）",
            number="碑司规〔2019〕3号",
            issuing_unit="justice",
            body="第一条 为推行行政执法公示制度，制定本办法。",
            published_at=at(6.8),
            made_on=date(2019, 5, 20),
            valid_from=date(2019, 6, 1),
        ),
        at(6.8),
    )
    add(
        "document/old/repealed",
        "justice",
        og.ValidityChanged(
            document_id=old,
            validity=og.Validity.REPEALED,
            changed_at=at(3.9),
            reason="已被《碑林区行政执法全过程记录实施办法》替代",
        ),
        at(3.9),
    )
    others = [
        (
            "BL-ZC-2026-21",
            "economy-trade",
            og.DocKind.POLICY,
            "碑林区促进小微企业发展若干措施",
            "一、减免小微企业房租；二、设立中小企业融资担保专项资金；三、推行惠企政策“免申即享”。",
            5.3,
        ),
        (
            "BL-XW-2026-140",
            "rule-of-law-office",
            og.DocKind.NEWS,
            "碑林区开展法治政府建设督察",
            "区委依法治区办本周对12个部门开展法治政府建设督察，发现问题3项，已下发督办通知。",
            4.9,
        ),
        (
            "BL-XW-2026-143",
            "justice",
            og.DocKind.NEWS,
            "行政复议决定书实现网上公开",
            "区司法局行政复议决定书即日起在政务公开门户网上公开，当事人个人信息均已隐去。",
            2.9,
        ),
    ]
    for doc_id, unit, kind, title, body, ago in others:
        add(
            f"document/{doc_id}/published",
            unit,
            og.DocumentPublished(
                document_id=doc_id,
                doc_kind=kind,
                title=title,
                issuing_unit=unit,
                body=body,
                published_at=at(ago),
                made_on=day(ago),
            ),
            at(ago),
        )
    requests = [
        (
            "BL-YSQ-2026-0311",
            "housing-construction",
            "李华",
            "申请公开碑林区2026年老旧小区改造项目清单及资金安排",
            og.Channel.ONLINE,
            6.3,
        ),
        (
            "BL-YSQ-2026-0312",
            "urban-management",
            "周强",
            "申请公开东关南街占道经营整治的执法依据",
            og.Channel.MAIL,
            5.4,
        ),
        (
            "BL-YSQ-2026-0315",
            "natural-resources",
            "吴敏",
            "申请公开某地块国有土地使用权出让合同",
            og.Channel.IN_PERSON,
            4.6,
        ),
    ]
    for rid, unit, name, content, channel, ago in requests:
        add(
            f"request/{rid}/received",
            unit,
            og.RequestReceived(
                request_id=rid,
                applicant=Applicant(name=name, phone="13800138000"),
                content=content,
                channel=channel,
                received_at=at(ago),
            ),
            at(ago),
        )
    r1, r2, r3 = (r[0] for r in requests)
    add(
        f"request/{r1}/answered",
        "housing-construction",
        og.RequestAnswered(
            request_id=r1,
            answer_type=og.AnswerType.PARTIALLY_DISCLOSED,
            answered_at=at(2.4),
            reason="资金安排中涉及商业秘密的部分不予公开（第三十七条）",
        ),
        at(2.4),
    )
    add(
        f"request/{r2}/correction",
        "urban-management",
        og.CorrectionRequested(
            request_id=r2, items="请写明所需信息的具体路段和时间范围", requested_at=at(5)
        ),
        at(5),
    )
    add(
        f"request/{r2}/corrected",
        "urban-management",
        og.RequestCorrected(request_id=r2, corrected_at=at(3.3)),
        at(3.3),
    )
    add(
        f"request/{r2}/answered",
        "urban-management",
        og.RequestAnswered(request_id=r2, answer_type=og.AnswerType.DISCLOSED, answered_at=at(0.7)),
        at(0.7),
    )
    add(
        f"request/{r3}/consultation",
        "natural-resources",
        og.ConsultationStarted(
            request_id=r3, consultee_kind=og.Consultee.THIRD_PARTY, started_at=at(3.8)
        ),
        at(3.8),
    )
    add(
        f"request/{r3}/consulted",
        "natural-resources",
        og.ConsultationEnded(request_id=r3, agrees=False, ended_at=at(1.7)),
        at(1.7),
    )
    add(
        f"request/{r3}/extended",
        "natural-resources",
        og.RequestExtended(
            request_id=r3, approved_by="政府信息公开工作机构负责人", extended_at=at(1.6)
        ),
        at(1.6),
    )
    decision = "BL-ZD-2026-02"
    add(
        "decision/listed",
        "housing-construction",
        og.DecisionListed(
            decision_id=decision,
            year=year,
            title="碑林区老旧街区更新改造实施方案",
            unit="housing-construction",
            summary="涉及柏树林、东关南街等4个街道的街区更新，总投资约6.8亿元。",
            listed_at=at(6.9),
        ),
        at(6.9),
    )
    steps_done = [
        (og.DecisionStep.PUBLIC_COMMENT, 75, 40, "公开征求意见36日，收到意见128条，采纳41条"),
        (og.DecisionStep.EXPERT_ARGUMENT, 38, 35, "组织规划、法律、财政专家论证"),
        (og.DecisionStep.RISK_ASSESSMENT, 34, 20, "社会稳定风险评估为低风险"),
        (og.DecisionStep.LEGALITY_REVIEW, 19, 6, "区司法局合法性审查通过"),
        (og.DecisionStep.COLLECTIVE_DISCUSSION, 3, 3, "区政府常务会议集体讨论通过"),
    ]
    for n, (step, started, ended, note) in enumerate(steps_done):
        recorded = at(6.5 - n)
        add(
            f"decision/step/{step}",
            "housing-construction",
            og.DecisionStepRecorded(
                decision_id=decision,
                unit="housing-construction",
                step=step,
                status=og.StepStatus.DONE,
                started_on=day(started),
                ended_on=day(ended),
                note=note,
                recorded_at=recorded,
            ),
            recorded,
        )
    add(
        "decision/adopted",
        "housing-construction",
        og.DecisionAdopted(
            decision_id=decision,
            year=year,
            title="碑林区老旧街区更新改造实施方案",
            unit="housing-construction",
            adopted_at=at(1.9),
        ),
        at(1.9),
    )
    decision2 = "BL-ZD-2026-03"
    add(
        "decision2/listed",
        "education",
        og.DecisionListed(
            decision_id=decision2,
            year=year,
            title="碑林区中小学校课后服务收费标准调整",
            unit="education",
            listed_at=at(5.2),
        ),
        at(5.2),
    )
    add(
        "decision2/comment",
        "education",
        og.DecisionStepRecorded(
            decision_id=decision2,
            unit="education",
            step=og.DecisionStep.PUBLIC_COMMENT,
            status=og.StepStatus.IN_PROGRESS,
            started_on=day(4),
            note="正在公开征求意见",
            recorded_at=at(4),
        ),
        at(4),
    )
    add(
        "decision2/hearing",
        "education",
        og.DecisionStepRecorded(
            decision_id=decision2,
            unit="education",
            step=og.DecisionStep.HEARING,
            status=og.StepStatus.PLANNED,
            note="拟召开价格听证会",
            recorded_at=at(0.5),
        ),
        at(0.5),
    )
    steps.sort(key=lambda s: s.at)
    return steps


# ---------------------------------------------------------------- posting


@dataclass(frozen=True)
class Target:
    name: str
    ports: dict[str, int]
    """Each topic's api port."""

    def url(self, topic: str) -> str:
        return f"http://127.0.0.1:{self.ports[topic]}"


def target(name: str) -> Target:
    if name == "test":
        return Target(name, {s.topic: s.test_api_port for s in topology.SERVICES})
    return Target(name, {s.topic: s.api_port for s in topology.SERVICES})


class Keys:
    def __init__(self, path: Path) -> None:
        if not path.exists():
            sys.exit(f"{path} not found: `make run` writes the demo keys (or pass --keys)")
        self.doc: dict[str, Any] = json.loads(path.read_text())

    def of(self, step: Step) -> str:
        if step.role == "department":
            key: str = self.doc["units"][step.unit]
            return key
        role = self.doc["roles"][step.role]
        if role["unit"] != step.unit:
            raise ValueError(f"{step.name}: the {step.role} key is of {role['unit']}")
        found: str = role["key"]
        return found


class Poster:
    def __init__(self, where: Target, keys: Keys) -> None:
        self.where = where
        self.keys = keys
        self.http = httpx.Client(timeout=30)

    def _headers(self, key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"}

    def number(self, document_id: str, unit: str, year: int) -> str:
        response = self.http.post(
            f"{self.where.url(topic_of(og.DocumentPublished))}/v1/registry/numbers",
            json={"document_id": document_id, "unit": unit, "year": year},
            headers=self._headers(self.keys.doc["units"][unit]),
        )
        response.raise_for_status()
        issued: str = response.json()["number"]
        return issued

    def receipt(self, step: Step) -> dict[str, Any] | None:
        response = self.http.get(
            f"{self.where.url(step.topic)}/v1/events/{step.id}",
            headers=self._headers(self.keys.of(step)),
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        found: dict[str, Any] = response.json()
        return found

    def wait_for(self, step: Step, timeout: float = 60) -> None:
        """Until `step.after` lists something (see Step.after)."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.http.get(
                f"{self.where.url(step.topic)}{step.after}",
                headers=self._headers(self.keys.of(step)),
            )
            if response.status_code == 200 and response.json().get("items"):
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"{step.name}: {step.after} still empty after {timeout:.0f} s")
            time.sleep(0.25)

    def receipts(self, steps: list[Step]) -> list[dict[str, Any] | None]:
        """The receipts of `steps`, asked eight at a time."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(self.receipt, steps))

    def post(self, step: Step) -> None:
        for _attempt in range(10):
            response = self.http.post(
                f"{self.where.url(step.topic)}/v1/events",
                content=json.dumps(step.cloudevent(), ensure_ascii=False).encode(),
                headers={
                    **self._headers(self.keys.of(step)),
                    "content-type": "application/cloudevents+json",
                },
            )
            if response.status_code == 202:
                return
            if response.status_code != 503:
                raise SystemExit(
                    f"{step.name} ({step.type}): {response.status_code} {response.text}"
                )
            time.sleep(float(response.headers.get("retry-after", "1")))
        raise SystemExit(f"{step.name}: the api kept answering 503 (is Kafka up?)")


def run(poster: Poster, steps: list[Step], *, live: bool, wait_s: float) -> Counter[str]:
    """Post the steps not yet applied, then wait until each posted one is settled."""
    outcome: Counter[str] = Counter()
    posted: list[Step] = []
    pause = LIVE_SECONDS / max(len(steps), 1) if live else 0.0
    for step, found in zip(steps, poster.receipts(steps), strict=True):
        if found is not None and found["state"] in ("applied", "duplicate"):
            outcome["skipped (posted before)"] += 1
            continue
        if found is not None and found["state"] == "accepted":
            outcome["skipped (in Kafka, not applied yet)"] += 1
            posted.append(step)
            continue
        if step.after:
            poster.wait_for(step)
        poster.post(step)
        posted.append(step)
        if live:
            print(f"{step.at:%m-%d %H:%M} {step.unit:22} {step.type}", flush=True)
            time.sleep(pause)
    deadline = time.monotonic() + wait_s
    waiting = list(posted)
    while waiting:
        still = []
        for step, found in zip(waiting, poster.receipts(waiting), strict=True):
            state = found["state"] if found else "accepted"
            if state == "accepted":
                still.append(step)
            elif state == "refused":
                outcome["refused"] += 1
                problem = (found or {}).get("problem", {})
                print(
                    f"refused: {step.name} ({step.type}): {problem.get('detail')}", file=sys.stderr
                )
            else:
                outcome[state] += 1
        waiting = still
        if waiting and time.monotonic() > deadline:
            outcome["not applied in time"] += len(waiting)
            for step in waiting:
                print(f"not applied within {wait_s:.0f} s: {step.name}", file=sys.stderr)
            break
        if waiting:
            time.sleep(0.5)
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--target",
        choices=["run", "test"],
        default=os.environ.get("FAZHI_DEMO_TARGET", "run"),
        help="the `make run` stack's ports (default) or the tests' (FAZHI_DEMO_TARGET)",
    )
    parser.add_argument("--keys", type=Path, default=ROOT / ".local" / "demo-keys.json")
    parser.add_argument("--live", action="store_true", help=f"spread over {LIVE_SECONDS:.0f} s")
    parser.add_argument("--wait", type=float, default=120, help="seconds to wait for receipts")
    args = parser.parse_args(argv)
    poster = Poster(target(args.target), Keys(args.keys))
    now = datetime.now(CHINA_TZ).replace(second=0, microsecond=0)
    started = time.monotonic()
    try:
        steps = week(now, poster.number)
    except httpx.HTTPError as exc:
        sys.exit(f"open-government's api does not answer ({exc}): start the stack with `make run`")
    outcome = run(poster, steps, live=args.live, wait_s=args.wait)
    print(
        f"demo week: {len(steps)} events, "
        + ", ".join(f"{n} {what}" for what, n in sorted(outcome.items()))
        + f" ({time.monotonic() - started:.1f} s)"
    )
    return 1 if outcome["refused"] or outcome["not applied in time"] else 0


if __name__ == "__main__":
    sys.exit(main())
