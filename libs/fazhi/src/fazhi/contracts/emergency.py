"""The contract of `emergency.events`, owned by emergency 突发事件应对: incidents with their grade
and response level, and warnings 预警 as CAP alert chains acknowledged by staff."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Self

from pydantic import AwareDatetime, Field, model_validator

from fazhi.contracts import EventContract, Term, TopicContract
from fazhi.contracts.models import (
    ERASED_TEXT,
    PERSONAL,
    Id,
    LongText,
    Payload,
    PersonalData,
    ShortText,
    UnitCode,
)
from fazhi.roles import Role
from fazhi.topology import EMERGENCY


class Grade(Term):
    """突发事件应对法 art. 3: four grades by social harm and reach, most serious first."""

    PARTICULARLY_SERIOUS = "particularly_serious", "特别重大"
    SERIOUS = "serious", "重大"
    RELATIVELY_SERIOUS = "relatively_serious", "较大"
    GENERAL = "general", "一般"

    @property
    def severity(self) -> int:
        """4 for 特别重大 down to 1 for 一般, so `>=` reads as "at least as serious"."""
        return len(Grade) - list(Grade).index(self)


class ResponseLevel(Term):
    """Art. 71: response levels one to four, level I the highest."""

    I = "I", "一级", "Ⅰ级", "I级"  # noqa: E741 - the law's own name for the level
    II = "II", "二级", "Ⅱ级", "II级"
    III = "III", "三级", "Ⅲ级", "III级"
    IV = "IV", "四级", "Ⅳ级", "IV级"


class MsgType(Term):
    """CAP msgType (Ack and Error are transport replies, not warnings, so they are not here)."""

    ALERT = "alert", "发布", "Alert"
    UPDATE = "update", "更新", "Update"
    CANCEL = "cancel", "解除", "Cancel"


class CapStatus(Term):
    """CAP status: only `actual` warnings are ever shown to the public."""

    ACTUAL = "actual", "实际", "Actual"
    EXERCISE = "exercise", "演练", "Exercise"
    SYSTEM = "system", "系统", "System"
    TEST = "test", "测试", "Test"
    DRAFT = "draft", "草稿", "Draft"


class AlertLevel(Term):
    """Art. 63: warning levels 一级 (red, the highest) to 四级 (blue), named by their colour."""

    BLUE = "blue", "蓝色", "四级"
    YELLOW = "yellow", "黄色", "三级"
    ORANGE = "orange", "橙色", "二级"
    RED = "red", "红色", "一级"

    @property
    def rank(self) -> int:
        return list(AlertLevel).index(self) + 1


class IncidentCategory(Term):
    """Art. 2: the four kinds of emergencies."""

    NATURAL_DISASTER = "natural_disaster", "自然灾害"
    ACCIDENT = "accident", "事故灾难"
    PUBLIC_HEALTH = "public_health", "公共卫生事件"
    SOCIAL_SECURITY = "social_security", "社会安全事件"


class AffectedPerson(Payload):
    """A person an incident report names (injured, missing, evacuated…): personal data, read
    by staff only, never in events that leave emergency, purged after the retention period."""

    ERASED: ClassVar[dict[str, Any]] = {"name": ERASED_TEXT}

    name: ShortText
    id_number: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=32)
    condition: str = Field(default="", max_length=200)
    """As reported: 受伤, 失联, 已转移安置…"""


class IncidentReported(Payload):
    incident_id: Id
    category: IncidentCategory
    kind: str = Field(default="", max_length=100)
    """A finer kind in the department's words (暴雨, 火灾…)."""
    grade: Grade
    title: Annotated[ShortText, PERSONAL]
    location: Annotated[ShortText, PERSONAL]
    occurred_at: AwareDatetime
    affected_persons: Annotated[
        list[AffectedPerson], PersonalData(erased=[AffectedPerson.ERASED])
    ] = Field(default_factory=list, max_length=500)


class AlertIssued(Payload):
    alert_id: Id
    msg_type: MsgType
    references: list[Id] = Field(default_factory=list, max_length=50)
    status: CapStatus = CapStatus.ACTUAL
    level: AlertLevel
    category: ShortText
    headline: ShortText
    description: LongText
    area: ShortText
    effective: AwareDatetime
    expires: AwareDatetime
    instruction: LongText = ""

    @property
    def chain_id(self) -> str:
        """The first alert of the chain: updates and cancels travel with it, in order."""
        return self.references[0] if self.references else self.alert_id

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.msg_type is not MsgType.ALERT and not self.references:
            raise ValueError(
                f"an {self.msg_type} must reference the alert(s) it replaces or cancels"
            )
        if self.expires <= self.effective:
            raise ValueError("expires must be after effective")
        return self


class AlertAcknowledged(Payload):
    alert_id: Id
    staff_id: Id
    acknowledged_at: AwareDatetime


class AlertEscalated(Payload):
    """An alert nobody acknowledged within its level's window; the subject is its chain."""

    alert_id: Id
    """The message that went unacknowledged (the chain's current one)."""
    chain_id: Id
    level: AlertLevel
    unit: UnitCode
    """The issuing unit."""
    issued_at: AwareDatetime
    """When the unacknowledged message was sent (the window runs from there)."""
    window_minutes: int = Field(ge=0)
    """The acknowledgement window of the level, in whole minutes (0 for a window under one)."""
    escalated_at: AwareDatetime
    window_seconds: int | None = Field(default=None, ge=0)
    """The window exactly, in seconds."""


class PersonalDataPurged(Payload):
    """The retention after an incident closed ended: the persons it named are erased."""

    incident_id: Id
    purged_at: AwareDatetime
    persons: int = Field(ge=0)
    """How many persons were erased."""


class AlertExpired(Payload):
    """The message in force of a chain reached its `expires`: the warning ended by itself."""

    alert_id: Id
    chain_id: Id
    expired_at: AwareDatetime


class NoticeSourceKind(Term):
    ALERT = "alert", "预警"
    INCIDENT = "incident", "突发事件"


class NoticeState(Term):
    """A notice as the portal shows it: first published, replaced by newer words, withdrawn."""

    ACTIVE = "active", "发布"
    UPDATED = "updated", "更新"
    WITHDRAWN = "withdrawn", "撤销"


class NoticePublished(Payload):
    """An authoritative public notice 权威信息发布 for the portal: an actual orange or red
    alert, or an incident graded 较大 or above. No personal data."""

    notice_id: Id
    source_kind: NoticeSourceKind
    source_id: Id
    """The alert chain or the incident the notice is about."""
    unit: UnitCode
    title: ShortText
    body: LongText
    level: str = Field(min_length=1, max_length=32)
    """The alert level (`red`) or the incident grade (`serious`)."""
    area: str = Field(default="", max_length=500)
    published_at: AwareDatetime
    state: NoticeState


class ResponseLevelChanged(Payload):
    """Art. 72: a response is started or changed at a level with its scope, expected duration
    and measures, proportionate to the harm (and ended as soon as it may be)."""

    incident_id: Id
    level: ResponseLevel
    changed_at: AwareDatetime
    scope: str = Field(default="", max_length=500)
    """Where and to whom the measures apply (碑林区长安路沿线…)."""
    expected_hours: int = Field(default=0, ge=0, le=24 * 365)
    """How long the response is expected to last, in hours (0: not stated)."""
    measures: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=100
    )


class ResponseEnded(Payload):
    """Art. 86: the threat is over, the response measures are lifted and recovery begins."""

    incident_id: Id
    ended_at: AwareDatetime
    note: LongText = ""


class IncidentClosed(Payload):
    """Recovery is done: the incident closes with its assessment report (调查评估报告, art. 87)."""

    incident_id: Id
    closed_at: AwareDatetime
    assessment: Annotated[LongText, PERSONAL] = Field(min_length=1)


class PlanKind(Term):
    """The plans system 应急预案体系 (art. 28): overall, special and department plans."""

    OVERALL = "overall", "总体应急预案"
    SPECIAL = "special", "专项应急预案"
    DEPARTMENT = "department", "部门应急预案"


class PlanRegistered(Payload):
    """A plan 应急预案 enters the registry, or is revised (registered again with new dates)."""

    plan_id: Id
    kind: PlanKind
    title: ShortText
    owner_unit: UnitCode
    approved_on: date
    revision_due_on: date
    """When the plan must next be assessed and revised (art. 29)."""
    last_drill_on: date | None = None


class PlanDrilled(Payload):
    plan_id: Id
    drilled_on: date
    note: LongText = ""


class PlanRevisionDue(Payload):
    """A plan's revision comes due: a reminder 30 days before, and on the day."""

    plan_id: Id
    owner_unit: UnitCode
    title: ShortText
    revision_due_on: date
    days_left: int = Field(ge=0)


class SupplyStocked(Payload):
    """A depot's count of one supply 应急物资 (art. 32), with the minimum it must hold."""

    supply_id: Id
    item: ShortText
    depot: ShortText
    quantity: int = Field(ge=0)
    minimum: int = Field(ge=0)
    measure: str = Field(default="件", min_length=1, max_length=16)
    """The unit of measure (件, 顶, 吨…)."""
    counted_at: AwareDatetime


class SupplyLow(Payload):
    """A supply fell below its minimum."""

    supply_id: Id
    item: ShortText
    depot: ShortText
    unit: UnitCode
    quantity: int = Field(ge=0)
    minimum: int = Field(ge=0)
    measure: str = Field(min_length=1, max_length=16)
    counted_at: AwareDatetime


class ForceRegistered(Payload):
    """A social emergency force 社会应急力量 registers (measure 十五): what it can do, how many,
    whether its members are insured; the contact is personal data."""

    force_id: Id
    name: ShortText
    capabilities: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        min_length=1, max_length=50
    )
    members: int = Field(ge=1)
    contact: Annotated[ShortText, PERSONAL]
    insured: bool
    registered_on: date


class ForceCalledUp(Payload):
    force_id: Id
    incident_id: Id | None = None
    task: ShortText
    called_at: AwareDatetime


class ForceCompensated(Payload):
    """Compensation for a call-up (requisition and compensation, measure 十三)."""

    force_id: Id
    amount_yuan: int = Field(ge=0)
    basis: ShortText
    compensated_at: AwareDatetime


CONTRACT = TopicContract.of(
    EMERGENCY,
    "Incidents 突发事件 and alerts 预警 (CAP semantics) of emergency 突发事件应对.",
    [
        EventContract(
            "emergency.incident.reported",
            IncidentReported,
            "incident_id",
            "An incident is reported with its grade (art. 3).",
        ),
        EventContract(
            "emergency.alert.issued",
            AlertIssued,
            "chain_id",
            "A CAP alert is issued, updated or cancelled; the subject is the chain's first "
            "alert (`references[0]`, else `alert_id`), so a chain keeps its order.",
        ),
        EventContract(
            "emergency.alert.acknowledged",
            AlertAcknowledged,
            "alert_id",
            "Staff of any unit acknowledge an alert.",
            posters=frozenset({Role.STAFF, Role.OPERATOR}),
        ),
        EventContract(
            "emergency.response.level_changed",
            ResponseLevelChanged,
            "incident_id",
            "The response to an incident starts at, or changes to, a level (arts. 71-72), "
            "with its scope, expected duration and measures.",
        ),
        EventContract(
            "emergency.response.ended",
            ResponseEnded,
            "incident_id",
            "The response to an incident is lifted; recovery begins (art. 86).",
        ),
        EventContract(
            "emergency.incident.closed",
            IncidentClosed,
            "incident_id",
            "An incident closes with its assessment report (art. 87).",
        ),
        EventContract(
            "emergency.incident.personal_data_purged",
            PersonalDataPurged,
            "incident_id",
            "The persons a closed incident named are erased once the retention ends (measure 十三).",
            derived=True,
        ),
        EventContract(
            "emergency.plan.registered",
            PlanRegistered,
            "plan_id",
            "A plan 应急预案 is registered or revised (arts. 26-29).",
        ),
        EventContract(
            "emergency.plan.drilled",
            PlanDrilled,
            "plan_id",
            "A plan is drilled (演练).",
        ),
        EventContract(
            "emergency.plan.revision_due",
            PlanRevisionDue,
            "plan_id",
            "A plan's revision comes due: 30 days before, and on the day.",
            derived=True,
        ),
        EventContract(
            "emergency.supply.stocked",
            SupplyStocked,
            "supply_id",
            "A depot counts one supply 应急物资, against the minimum it must hold.",
        ),
        EventContract(
            "emergency.supply.low",
            SupplyLow,
            "supply_id",
            "A supply fell below its minimum.",
            derived=True,
        ),
        EventContract(
            "emergency.force.registered",
            ForceRegistered,
            "force_id",
            "A social emergency force 社会应急力量 registers (measure 十五).",
        ),
        EventContract(
            "emergency.force.called_up",
            ForceCalledUp,
            "force_id",
            "A registered force is called up, for an incident or a task.",
        ),
        EventContract(
            "emergency.force.compensated",
            ForceCompensated,
            "force_id",
            "A force is compensated for a call-up.",
        ),
        EventContract(
            "emergency.alert.escalated",
            AlertEscalated,
            "chain_id",
            "An alert went unacknowledged by staff within its level's window (red 5 minutes, "
            "orange 15, yellow 60; blue is never chased).",
            derived=True,
        ),
        EventContract(
            "emergency.alert.expired",
            AlertExpired,
            "chain_id",
            "An alert chain's message in force reached its `expires` (CAP): the warning ended.",
            derived=True,
        ),
        EventContract(
            "emergency.notice.published",
            NoticePublished,
            "notice_id",
            "A public notice is published, updated or withdrawn as its alert or incident is "
            "(actual orange and red alerts, incidents graded 较大 or above); no personal data.",
            derived=True,
        ),
    ],
)
