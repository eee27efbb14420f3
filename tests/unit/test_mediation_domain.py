from collections.abc import Callable
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fazhi.rules.clocks import ClockStatus, start_clock
from fazhi.rules.statemachine import IllegalTransition
from fazhi.rules.statutes import ClockError
from petition_mediation.domain import (
    Accept,
    Action,
    AdjudicationCase,
    AdjudicationState,
    AnswerRecommendation,
    Case,
    CaseType,
    Channel,
    Close,
    CloseHearing,
    CloseUnreviewed,
    ConvertToGeneral,
    Decide,
    DeemAccepted,
    Extend,
    FileDefence,
    IssueOpinion,
    LitigationState,
    MediationState,
    NotAccept,
    OpenHearing,
    Outcome,
    PetitionCase,
    PetitionState,
    Procedure,
    ReceiveCorrection,
    ReceiveRecommendation,
    RecommendationKind,
    ReconsiderationCase,
    ReconsiderationState,
    RecordAgreement,
    RecordExecution,
    RecordFailure,
    RecordHearing,
    RecordJudgment,
    Refer,
    RequestCorrection,
    RequestReview,
    Resume,
    ReviewLevel,
    SimplifiedGround,
    StartMediation,
    Suspend,
    Withdraw,
    acceptance_review_ends,
    case_type,
    file_adjudication,
    file_litigation,
    file_mediation,
    file_petition,
    file_reconsideration,
    review_window,
    review_window_ends,
    transition,
)

D0 = date(2026, 3, 2)  # a Monday clear of holidays


def d(days: int) -> date:
    return D0 + timedelta(days=days)


def due(rule: str, start: date) -> date:
    return start_clock(rule, start).due_on


# --- petitions 信访 ----------------------------------------------------------------------------


def accepted_petition(on: date = D0) -> PetitionCase:
    return transition(file_petition("p-1", D0), Accept(on))


def handled_petition(opinion_on: date) -> PetitionCase:
    return transition(accepted_petition(), IssueOpinion(opinion_on, "不予支持"))


def test_petition_acceptance_must_be_notified_within_15_days() -> None:
    case = file_petition("p-1", D0)
    assert case.state is PetitionState.FILED
    assert case.due_on == due("petition.acceptance", D0)
    assert case.due_on >= d(15)
    assert not case.overdue(case.due_on)
    assert case.overdue(case.due_on + timedelta(days=1))
    assert case.days_overdue(case.due_on + timedelta(days=2)) == 2


def test_accepted_petition_must_be_handled_within_60_days_of_acceptance() -> None:
    case = accepted_petition(d(4))
    assert case.state is PetitionState.ACCEPTED
    assert case.due_on == due("petition.handling", d(4))
    assert case.due_on >= d(64)
    step = case.history[-1]
    assert (step.action, step.on, step.due_on) == ("accept", d(4), due("petition.acceptance", D0))
    assert not step.late


def test_late_acceptance_is_recorded_as_late() -> None:
    assert accepted_petition(d(40)).history[-1].late


def test_petition_not_accepted_is_terminal() -> None:
    case = transition(file_petition("p-1", D0), NotAccept(d(3), "不属于本机关职权范围"))
    assert (case.state, case.clock) == (PetitionState.NOT_ACCEPTED, None)
    with pytest.raises(IllegalTransition, match="allowed: none"):
        transition(case, Accept(d(4)))


def test_petition_handling_may_be_extended_once_by_30_days_with_approval() -> None:
    case = transition(accepted_petition(), Extend(d(50), "局长", "情况复杂"))
    assert case.due_on == start_clock("petition.handling", D0).extend(on=d(50)).due_on
    assert case.due_on >= d(90)
    assert case.state is PetitionState.ACCEPTED
    with pytest.raises(IllegalTransition, match="allows one extension"):
        transition(case, Extend(d(51), "局长", "again"))


def test_petition_extension_needs_an_approver_and_must_come_before_the_deadline() -> None:
    with pytest.raises(IllegalTransition, match="approving head"):
        transition(accepted_petition(), Extend(d(5), " ", "x"))
    late = accepted_petition()
    assert late.due_on is not None
    with pytest.raises(IllegalTransition, match="already ended"):
        transition(late, Extend(late.due_on + timedelta(days=1), "局长", "x"))


def test_handling_opinion_stops_the_clock() -> None:
    case = handled_petition(d(30))
    assert (case.state, case.due_on, case.overdue(d(500))) == (PetitionState.HANDLED, None, False)
    assert case.days_overdue(d(500)) == 0


def test_review_request_within_30_days_of_the_reply_starts_a_30_day_review() -> None:
    case = handled_petition(d(30))
    received = d(33)
    assert review_window_ends(case) == due("petition.review", d(30))
    case = transition(case, RequestReview(due("petition.review", received), received, "市信访局"))
    assert case.state is PetitionState.REVIEW_REQUESTED
    assert case.due_on == due("petition.review", due("petition.review", received))
    assert case.history[-1].note == "to 市信访局"


def test_review_request_after_the_30_day_window_is_refused() -> None:
    case = handled_petition(d(30))
    too_late = due("petition.review", d(30)) + timedelta(days=1)
    with pytest.raises(IllegalTransition, match="30-day window from"):
        transition(case, RequestReview(too_late, d(30), "市信访局"))


def test_review_request_cannot_predate_the_reply() -> None:
    case = handled_petition(d(30))
    with pytest.raises(IllegalTransition, match="was not received before"):
        transition(case, RequestReview(d(31), d(29), "x"))
    with pytest.raises(IllegalTransition, match="before the reply was received"):
        transition(case, RequestReview(d(31), d(32), "x"))


def reviewed_petition() -> PetitionCase:
    case = transition(handled_petition(d(30)), RequestReview(d(35), d(32), "市"))
    return transition(case, IssueOpinion(d(50), "维持"))


def test_review_opinion_opens_the_re_review_window() -> None:
    case = reviewed_petition()
    assert (case.state, case.clock) == (PetitionState.REVIEWED, None)
    assert review_window_ends(case) == due("petition.rereview", d(50))
    case = transition(case, RequestReview(d(60), d(52), "省信访局"))
    assert case.state is PetitionState.REREVIEW_REQUESTED
    assert case.due_on == due("petition.rereview", d(60))
    assert review_window_ends(case) is None


def test_re_review_hearing_time_does_not_count() -> None:
    case = transition(reviewed_petition(), RequestReview(d(60), d(52), "省"))
    before = case.due_on
    assert before is not None
    heard = transition(case, OpenHearing(d(65)))
    assert heard.state is PetitionState.REREVIEW_HEARING
    assert heard.clock is not None
    assert heard.clock.status(d(200)) is ClockStatus.PAUSED
    assert not heard.overdue(d(200))
    back = transition(heard, CloseHearing(d(75)))
    assert back.state is PetitionState.REREVIEW_REQUESTED
    paused_ten_days = start_clock("petition.rereview", d(60)).pause(on=d(65)).resume(on=d(75))
    assert back.due_on == paused_ten_days.due_on
    assert back.due_on > before


def test_re_review_opinion_is_final() -> None:
    case = transition(reviewed_petition(), RequestReview(d(60), d(52), "省"))
    case = transition(case, IssueOpinion(d(80), "维持"))
    assert case.state is PetitionState.CLOSED
    with pytest.raises(IllegalTransition, match="state 'closed' cannot request_review"):
        transition(case, RequestReview(d(81), d(80), "国家信访局"))


@pytest.mark.parametrize("reviewed", [False, True])
def test_petition_closes_when_no_further_review_is_asked(reviewed: bool) -> None:
    case = reviewed_petition() if reviewed else handled_petition(d(30))
    closed = transition(case, Close(d(90), "期满未请求复查"))
    assert closed.state is PetitionState.CLOSED


@pytest.mark.parametrize("reviewed", [False, True])
def test_petition_closes_by_itself_the_day_after_its_review_window_ends(reviewed: bool) -> None:
    case = reviewed_petition() if reviewed else handled_petition(d(30))
    window = review_window(case)
    assert window is not None
    level, ends = window
    assert level is (ReviewLevel.REREVIEW if reviewed else ReviewLevel.REVIEW)
    with pytest.raises(IllegalTransition, match=f"window runs until {ends}"):
        transition(case, CloseUnreviewed(ends, ends))
    closed = transition(case, CloseUnreviewed(ends + timedelta(days=1), ends))
    assert (closed.state, closed.clock) == (PetitionState.CLOSED, None)
    step = closed.history[-1]
    assert (step.action, step.note) == ("close_unreviewed", f"期满未请求{level.label_zh}")


def test_a_petition_is_not_closed_for_a_window_it_no_longer_has() -> None:
    handled = handled_petition(d(30))
    first = review_window_ends(handled)
    assert first is not None
    # The review was asked and answered: a closing for the first window finds another one.
    reviewed = reviewed_petition()
    with pytest.raises(IllegalTransition, match=f"window ends on {review_window_ends(reviewed)}"):
        transition(reviewed, CloseUnreviewed(d(100), first))
    asked = transition(handled, RequestReview(d(35), d(32), "市"))
    with pytest.raises(IllegalTransition, match="cannot close_unreviewed"):
        transition(asked, CloseUnreviewed(first + timedelta(days=1), first))


def test_petition_has_no_simplified_procedure() -> None:
    with pytest.raises(IllegalTransition, match="only reconsideration"):
        transition(file_petition("p", D0), Accept(D0, Procedure.SIMPLIFIED))


def test_actions_dated_before_the_last_step_are_refused() -> None:
    case = accepted_petition(d(5))
    with pytest.raises(IllegalTransition, match="before the last step on"):
        transition(case, IssueOpinion(d(4), "x"))
    with pytest.raises(IllegalTransition, match="before the last step on"):
        transition(file_litigation("l", D0), FileDefence(d(-1)))


# --- administrative mediation 行政调解 ---------------------------------------------------------


def test_mediation_ends_in_an_agreement() -> None:
    case = transition(file_mediation("m-1", D0), StartMediation(d(1)))
    assert (case.state, case.channel) == (MediationState.MEDIATING, Channel.ADMINISTRATIVE)
    case = transition(case, RecordAgreement(d(9), "赔偿 3000 元"))
    assert (case.state, case.agreement) == (MediationState.AGREED, "赔偿 3000 元")
    with pytest.raises(IllegalTransition, match="allowed: none"):
        transition(case, Refer(d(10), Channel.JUDICIAL, "法院"))


def test_mediation_agreement_needs_its_terms() -> None:
    case = transition(file_mediation("m-1", D0), StartMediation(d(1)))
    with pytest.raises(IllegalTransition, match="needs its terms"):
        transition(case, RecordAgreement(d(2), ""))


@pytest.mark.parametrize("started", [False, True])
def test_mediation_can_fail_before_or_during_mediation(started: bool) -> None:
    case = file_mediation("m-1", D0)
    if started:
        case = transition(case, StartMediation(d(1)))
    assert transition(case, RecordFailure(d(2), "一方拒绝")).state is MediationState.FAILED


def test_referral_to_peoples_mediation_keeps_the_case_thread() -> None:
    case = transition(file_mediation("m-1", D0), StartMediation(d(1)))
    case = transition(case, Refer(d(3), Channel.PEOPLES, "南院门街道人民调解委员会"))
    assert (case.case_id, case.state, case.channel) == (
        "m-1",
        MediationState.REFERRED,
        Channel.PEOPLES,
    )
    case = transition(case, StartMediation(d(4)))
    case = transition(case, RecordAgreement(d(8), "协议"))
    assert [r.to_channel for r in case.referrals] == [Channel.PEOPLES]
    assert [s.action for s in case.history] == [
        "start_mediation",
        "refer",
        "start_mediation",
        "record_agreement",
    ]
    assert case.history[1].note.startswith("administrative → peoples")


def test_failed_mediation_may_move_to_judicial_mediation() -> None:
    case = transition(file_mediation("m-1", D0), RecordFailure(d(1), "未达成"))
    case = transition(case, Refer(d(2), Channel.JUDICIAL, "碑林区人民法院"))
    assert (case.state, case.channel) == (MediationState.REFERRED, Channel.JUDICIAL)


def test_referral_to_the_current_channel_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="already in administrative mediation"):
        transition(file_mediation("m-1", D0), Refer(d(1), Channel.ADMINISTRATIVE, "x"))


def test_mediation_has_no_statutory_clock() -> None:
    case = file_mediation("m-1", D0)
    assert (case.due_on, case.overdue(d(999))) == (None, False)


# --- administrative adjudication 行政裁决 ------------------------------------------------------


def test_adjudication_runs_filed_accepted_hearing_decided_closed_without_a_clock() -> None:
    case = file_adjudication("j-1", D0)
    steps: list[tuple[Action, AdjudicationState]] = [
        (Accept(d(1)), AdjudicationState.ACCEPTED),
        (OpenHearing(d(10)), AdjudicationState.HEARING),
        (Decide(d(20), "裁决书"), AdjudicationState.DECIDED),
        (Close(d(21), "送达"), AdjudicationState.CLOSED),
    ]
    for action, state in steps:
        case = transition(case, action)
        assert case.state is state
        assert case.due_on is None
    assert case.decision == "裁决书"


def test_adjudication_may_decide_on_the_papers_without_a_hearing() -> None:
    case = transition(file_adjudication("j-1", D0), Accept(d(1)))
    assert transition(case, Decide(d(5), "x")).state is AdjudicationState.DECIDED


def test_adjudication_period_is_configurable_by_naming_a_clock_rule() -> None:
    # Any rule of the table may be configured; this one is only an example.
    case = file_adjudication("j-1", D0, decision_rule="reconsideration.decision.general")
    case = transition(case, Accept(d(2)))
    assert case.due_on == due("reconsideration.decision.general", d(2))
    case = transition(case, OpenHearing(d(3)))
    assert case.due_on == due("reconsideration.decision.general", d(2))
    decided = transition(case, Decide(d(4), "x"))
    assert decided.due_on is None
    assert decided.history[-1].due_on == due("reconsideration.decision.general", d(2))


def test_adjudication_with_an_unknown_rule_is_refused_at_filing() -> None:
    with pytest.raises(ClockError, match="unknown clock rule"):
        file_adjudication("j-1", D0, decision_rule="adjudication.made_up")


def test_adjudication_not_accepted_is_terminal_and_cannot_skip_steps() -> None:
    case = file_adjudication("j-1", D0)
    with pytest.raises(IllegalTransition, match="allowed: accept, not_accept"):
        transition(case, Decide(d(1), "x"))
    rejected = transition(case, NotAccept(d(1), "超出裁决范围"))
    assert rejected.state is AdjudicationState.NOT_ACCEPTED
    with pytest.raises(IllegalTransition, match="only reconsideration"):
        transition(case, Accept(d(1), Procedure.SIMPLIFIED))


# --- administrative reconsideration 行政复议 ---------------------------------------------------


def reconsideration() -> ReconsiderationCase:
    return file_reconsideration("r-1", D0)


def general(on: date = D0) -> ReconsiderationCase:
    return transition(reconsideration(), Accept(on))


def simplified(ground: SimplifiedGround = SimplifiedGround.OPEN_GOVERNMENT) -> ReconsiderationCase:
    return transition(reconsideration(), Accept(D0, Procedure.SIMPLIFIED, ground))


def test_reconsideration_acceptance_review_takes_5_working_days() -> None:
    case = reconsideration()
    assert case.state is ReconsiderationState.ACCEPTANCE_REVIEW
    assert case.due_on == due("reconsideration.acceptance", D0)
    assert case.due_on == d(7), "5 working days from a Monday end the next Monday"


def test_reconsideration_general_procedure_must_decide_within_60_days_of_acceptance() -> None:
    case = general(d(3))
    assert (case.state, case.procedure, case.accepted_on) == (
        ReconsiderationState.ACCEPTED,
        Procedure.GENERAL,
        d(3),
    )
    assert case.due_on == due("reconsideration.decision.general", d(3))


def test_reconsideration_general_procedure_may_be_extended_once_by_30_days() -> None:
    case = transition(general(), Extend(d(55), "复议机构负责人", "情况复杂"))
    assert (
        case.due_on == start_clock("reconsideration.decision.general", D0).extend(on=d(55)).due_on
    )
    assert case.due_on >= d(90)
    with pytest.raises(IllegalTransition, match="allows one extension"):
        transition(case, Extend(d(56), "x", "again"))


def test_reconsideration_simplified_procedure_must_decide_within_30_days() -> None:
    case = simplified()
    assert case.procedure is Procedure.SIMPLIFIED
    assert case.simplified_ground is SimplifiedGround.OPEN_GOVERNMENT
    assert case.due_on == due("reconsideration.decision.simplified", D0)
    assert d(30) <= case.due_on < d(35)


def test_simplified_procedure_cannot_be_extended() -> None:
    with pytest.raises(IllegalTransition, match="cannot be extended"):
        transition(simplified(), Extend(d(10), "x", "y"))


@pytest.mark.parametrize(
    ("procedure", "ground"),
    [
        (Procedure.SIMPLIFIED, None),
        (Procedure.GENERAL, SimplifiedGround.AMOUNT_UP_TO_3000),
    ],
)
def test_simplified_procedure_and_only_it_needs_an_article_53_ground(
    procedure: Procedure, ground: SimplifiedGround | None
) -> None:
    with pytest.raises(IllegalTransition, match=r"art\. 53 ground"):
        transition(reconsideration(), Accept(D0, procedure, ground))


def test_article_53_grounds_include_open_government_cases_and_agreement() -> None:
    assert {g.value for g in SimplifiedGround} == {
        "on_the_spot",
        "warning_or_criticism",
        "amount_up_to_3000",
        "open_government",
        "parties_agree",
    }


def test_simplified_case_converted_to_general_gets_60_days_from_acceptance() -> None:
    case = transition(simplified(), ConvertToGeneral(d(10), "复议机构负责人"))
    assert (case.procedure, case.simplified_ground) == (Procedure.GENERAL, None)
    assert case.due_on == due("reconsideration.decision.general", D0)
    with pytest.raises(IllegalTransition, match="already follows the general"):
        transition(case, ConvertToGeneral(d(11), "x"))
    with pytest.raises(IllegalTransition, match="approving head"):
        transition(simplified(), ConvertToGeneral(d(10), ""))


def test_application_is_deemed_accepted_when_the_review_period_ends_silently() -> None:
    review_due = due("reconsideration.acceptance", D0)
    with pytest.raises(IllegalTransition, match="acceptance review runs until"):
        transition(reconsideration(), DeemAccepted(review_due))
    case = transition(reconsideration(), DeemAccepted(review_due + timedelta(days=1)))
    assert (case.state, case.accepted_on, case.procedure) == (
        ReconsiderationState.ACCEPTED,
        review_due,
        Procedure.GENERAL,
    )
    assert case.due_on == due("reconsideration.decision.general", review_due)


def test_the_acceptance_review_ends_on_its_clock_only_while_it_runs() -> None:
    filed = reconsideration()
    assert acceptance_review_ends(filed) == due("reconsideration.acceptance", D0)
    assert acceptance_review_ends(transition(filed, RequestCorrection(d(1)))) is None
    assert acceptance_review_ends(general(d(1))) is None
    corrected = transition(transition(filed, RequestCorrection(d(1))), ReceiveCorrection(d(9)))
    assert acceptance_review_ends(corrected) == due("reconsideration.acceptance", d(9))


def refuse(on: date) -> Action:
    return NotAccept(on, "x")


@pytest.mark.parametrize("action", [Accept, refuse])
def test_after_the_review_period_it_can_no_longer_be_refused_or_accepted_by_hand(
    action: Callable[[date], Action],
) -> None:
    after = due("reconsideration.acceptance", D0) + timedelta(days=1)
    with pytest.raises(IllegalTransition, match="deemed accepted"):
        transition(reconsideration(), action(after))


def test_refusal_within_the_review_period_is_terminal() -> None:
    case = transition(reconsideration(), NotAccept(d(2), "超过申请期限"))
    assert (case.state, case.due_on) == (ReconsiderationState.REJECTED, None)
    with pytest.raises(IllegalTransition, match="allowed: none"):
        transition(case, Accept(d(3)))


def test_correction_notice_within_5_working_days_restarts_the_review_on_receipt() -> None:
    case = transition(reconsideration(), RequestCorrection(d(3)))
    assert (case.state, case.due_on) == (ReconsiderationState.CORRECTION_REQUESTED, None)
    case = transition(case, ReceiveCorrection(d(12)))
    assert case.state is ReconsiderationState.ACCEPTANCE_REVIEW
    assert case.due_on == due("reconsideration.acceptance", d(12))
    with pytest.raises(IllegalTransition, match="given once"):
        transition(case, RequestCorrection(d(13)))


def test_late_correction_notice_is_refused() -> None:
    late = due("reconsideration.correction", D0) + timedelta(days=1)
    with pytest.raises(IllegalTransition, match="correction notice was due by"):
        transition(reconsideration(), RequestCorrection(late))


@pytest.mark.parametrize("stage", ["review", "correction", "accepted", "suspended"])
def test_applicant_may_withdraw_before_the_decision(stage: str) -> None:
    openers: dict[str, Callable[[], ReconsiderationCase]] = {
        "review": reconsideration,
        "correction": lambda: transition(reconsideration(), RequestCorrection(d(1))),
        "accepted": general,
        "suspended": lambda: transition(general(), Suspend(d(2), "和解")),
    }
    case = openers[stage]()
    out = transition(case, Withdraw(d(20), "视为放弃"))
    assert (out.state, out.due_on) == (ReconsiderationState.WITHDRAWN, None)


def test_suspension_stops_the_decision_period_until_resumed() -> None:
    case = general()
    before = case.due_on
    assert before is not None
    paused = transition(case, Suspend(d(10), "等待其他案件审理结果"))
    assert paused.state is ReconsiderationState.SUSPENDED
    assert not paused.overdue(d(300))
    resumed = transition(paused, Resume(d(30)))
    assert resumed.state is ReconsiderationState.ACCEPTED
    assert resumed.due_on is not None
    clock = start_clock("reconsideration.decision.general", D0)
    assert resumed.due_on == clock.pause(on=d(10)).resume(on=d(30)).due_on
    assert resumed.due_on >= d(80), "60 days plus the 20 suspended"


def test_decision_names_its_outcome_and_stops_the_clock() -> None:
    with pytest.raises(IllegalTransition, match="names its outcome"):
        transition(general(), Decide(d(20), "决定书"))
    case = transition(general(), Decide(d(20), "决定书", Outcome.REVOKED))
    assert (case.state, case.outcome, case.due_on) == (
        ReconsiderationState.DECIDED,
        Outcome.REVOKED,
        None,
    )
    assert case.history[-1].due_on == due("reconsideration.decision.general", D0)
    assert not case.history[-1].late


def test_decision_after_the_deadline_is_recorded_as_late() -> None:
    case = simplified()
    assert case.due_on is not None
    late = transition(case, Decide(case.due_on + timedelta(days=1), "x", Outcome.UPHELD))
    assert late.history[-1].late


def test_respondent_must_carry_out_a_binding_decision_before_the_case_closes() -> None:
    case = transition(general(), Decide(d(20), "x", Outcome.ORDERED_TO_PERFORM))
    with pytest.raises(IllegalTransition, match="must first carry out"):
        transition(case, Close(d(21), "x"))
    case = transition(case, RecordExecution(d(40), "已重新作出行政行为"))
    assert case.state is ReconsiderationState.EXECUTED
    assert transition(case, Close(d(41), "履行完毕")).state is ReconsiderationState.CLOSED


@pytest.mark.parametrize("outcome", [Outcome.UPHELD, Outcome.DISMISSED])
def test_upheld_or_dismissed_decision_closes_without_execution(outcome: Outcome) -> None:
    case = transition(general(), Decide(d(20), "x", outcome))
    with pytest.raises(IllegalTransition, match="leaves the respondent nothing to do"):
        transition(case, RecordExecution(d(21), "x"))
    assert transition(case, Close(d(21), "x")).state is ReconsiderationState.CLOSED


def test_only_upheld_and_dismissed_decisions_leave_the_respondent_nothing_to_do() -> None:
    assert {o for o in Outcome if not o.binds_respondent} == {Outcome.UPHELD, Outcome.DISMISSED}


# --- litigation response 行政应诉 --------------------------------------------------------------


def test_defence_is_due_15_days_after_service() -> None:
    case = file_litigation("l-1", D0)
    assert case.state is LitigationState.SERVED
    assert case.due_on == due("litigation.defence", D0)
    filed = transition(case, FileDefence(d(10)))
    assert (filed.state, filed.due_on) == (LitigationState.DEFENCE_FILED, None)
    assert not filed.history[-1].late


def test_late_defence_is_accepted_but_recorded_late() -> None:
    case = file_litigation("l-1", D0)
    assert case.due_on is not None
    assert case.overdue(case.due_on + timedelta(days=1))
    late = transition(case, FileDefence(case.due_on + timedelta(days=3)))
    assert late.history[-1].late


def test_court_may_hear_the_case_without_a_defence() -> None:
    case = transition(file_litigation("l-1", D0), RecordHearing(d(30), head_appeared=False))
    assert case.state is LitigationState.HEARINGS
    assert case.history[-1].late


def test_litigation_runs_to_judgment_and_records_whether_the_head_appeared() -> None:
    case = transition(file_litigation("l-1", D0), FileDefence(d(5)))
    case = transition(case, RecordHearing(d(40), head_appeared=True))
    case = transition(case, RecordHearing(d(60), head_appeared=False))
    case = transition(case, RecordJudgment(d(90), "驳回诉讼请求"))
    assert case.state is LitigationState.JUDGMENT
    assert [h.head_appeared for h in case.hearings] == [True, False]
    assert case.history[1].note == "head appeared in court"
    assert transition(case, Close(d(91), "生效")).state is LitigationState.CLOSED


def test_judgment_needs_a_defence_or_a_hearing_first() -> None:
    with pytest.raises(IllegalTransition, match="allowed: answer_recommendation, file_defence"):
        transition(file_litigation("l-1", D0), RecordJudgment(d(9), "x"))


def test_case_stays_open_until_every_recommendation_is_answered() -> None:
    case = transition(file_litigation("l-1", D0), FileDefence(d(5)))
    case = transition(
        case, ReceiveRecommendation(d(6), "jy-1", RecommendationKind.PROCURATORIAL, "检察建议")
    )
    case = transition(case, RecordJudgment(d(80), "撤销"))
    case = transition(
        case, ReceiveRecommendation(d(85), "jy-2", RecommendationKind.JUDICIAL, "司法建议")
    )
    with pytest.raises(IllegalTransition, match="still unanswered: jy-1, jy-2"):
        transition(case, Close(d(86), "x"))
    case = transition(case, AnswerRecommendation(d(100), "jy-1", "已整改"))
    case = transition(case, AnswerRecommendation(d(101), "jy-2", "已整改"))
    assert case.open_recommendations == ()
    assert case.recommendations[0].answered_on == d(100)
    assert transition(case, Close(d(102), "x")).state is LitigationState.CLOSED


def test_recommendations_are_recorded_once_and_answered_once() -> None:
    case = file_litigation("l-1", D0)
    rec = ReceiveRecommendation(d(1), "jy-1", RecommendationKind.JUDICIAL, "x")
    case = transition(case, rec)
    assert case.due_on == due("litigation.defence", D0), "a recommendation leaves the clock alone"
    with pytest.raises(IllegalTransition, match="already recorded"):
        transition(case, rec)
    case = transition(case, AnswerRecommendation(d(2), "jy-1", "ok"))
    with pytest.raises(IllegalTransition, match="no open recommendation jy-1"):
        transition(case, AnswerRecommendation(d(3), "jy-1", "again"))


# --- all case types ----------------------------------------------------------------------------


def test_each_case_reports_its_type() -> None:
    cases: list[Case] = [
        file_petition("a", D0),
        file_mediation("b", D0),
        file_adjudication("c", D0),
        file_reconsideration("d", D0),
        file_litigation("e", D0),
    ]
    assert [case_type(c) for c in cases] == list(CaseType)


@pytest.mark.parametrize(
    ("case", "action", "message"),
    [
        (
            file_petition("a", D0),
            RequestReview(D0, D0, "x"),
            "petition case in state 'filed' cannot request_review; allowed: accept, not_accept",
        ),
        (
            file_mediation("b", D0),
            Decide(D0, "x"),
            "mediation case in state 'filed' cannot decide; "
            "allowed: record_failure, refer, start_mediation",
        ),
        (
            file_adjudication("c", D0),
            Close(D0, "x"),
            "adjudication case in state 'filed' cannot close; allowed: accept, not_accept",
        ),
        (
            file_reconsideration("d", D0),
            RecordExecution(D0, "x"),
            "reconsideration case in state 'acceptance_review' cannot record_execution; "
            "allowed: accept, deem_accepted, not_accept, request_correction, withdraw",
        ),
        (
            file_litigation("e", D0),
            Accept(D0),
            "litigation case in state 'served' cannot accept; allowed: answer_recommendation, "
            "file_defence, receive_recommendation, record_hearing",
        ),
    ],
)
def test_illegal_moves_are_refused_naming_case_state_action_and_allowed_actions(
    case: Case, action: Action, message: str
) -> None:
    with pytest.raises(IllegalTransition) as e:
        transition(case, action)
    assert str(e.value) == message


# --- random sequences --------------------------------------------------------------------------

days = st.integers(0, 120).map(d)
texts = st.sampled_from(["", "x"])
any_action = st.one_of(
    st.builds(
        Accept, days, st.sampled_from(Procedure), st.none() | st.sampled_from(SimplifiedGround)
    ),
    st.builds(DeemAccepted, days),
    st.builds(NotAccept, days, texts),
    st.builds(RequestCorrection, days),
    st.builds(ReceiveCorrection, days),
    st.builds(Withdraw, days, texts),
    st.builds(Extend, days, texts, texts),
    st.builds(ConvertToGeneral, days, texts),
    st.builds(Suspend, days, texts),
    st.builds(Resume, days),
    st.builds(IssueOpinion, days, texts),
    st.builds(RequestReview, days, days, texts),
    st.builds(OpenHearing, days),
    st.builds(CloseHearing, days),
    st.builds(Decide, days, texts, st.none() | st.sampled_from(Outcome)),
    st.builds(RecordExecution, days, texts),
    st.builds(Close, days, texts),
    st.builds(CloseUnreviewed, days, days),
    st.builds(StartMediation, days),
    st.builds(Refer, days, st.sampled_from(Channel), texts),
    st.builds(RecordAgreement, days, texts),
    st.builds(RecordFailure, days, texts),
    st.builds(FileDefence, days),
    st.builds(RecordHearing, days, st.booleans()),
    st.builds(RecordJudgment, days, texts),
    st.builds(
        ReceiveRecommendation,
        days,
        st.sampled_from(["r1", "r2"]),
        st.sampled_from(RecommendationKind),
        texts,
    ),
    st.builds(AnswerRecommendation, days, st.sampled_from(["r1", "r2"]), texts),
)
openers = st.sampled_from(
    [
        lambda: file_petition("p", D0),
        lambda: file_mediation("m", D0),
        lambda: file_adjudication("j", D0, "petition.handling"),
        lambda: file_reconsideration("r", D0),
        lambda: file_litigation("l", D0),
    ]
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(openers, st.lists(any_action, max_size=15), st.booleans())
def test_random_commands_only_ever_fail_with_illegal_transition(
    opener: Callable[[], Case], actions: list[Action], in_date_order: bool
) -> None:
    case = opener()
    for action in sorted(actions, key=lambda a: a.on) if in_date_order else actions:
        try:
            case = transition(case, action)
        except IllegalTransition:
            continue
        on = [s.on for s in case.history]
        assert on == sorted(on)
        case.overdue(d(200))
        if isinstance(case, AdjudicationCase | PetitionCase) and case.state in (
            PetitionState.CLOSED,
            PetitionState.NOT_ACCEPTED,
            AdjudicationState.CLOSED,
        ):
            assert case.clock is None
