from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fazhi.rules.clocks import Clock, ClockStatus, start_clock
from fazhi.rules.statemachine import IllegalTransition
from open_government.domain import (
    Abandon,
    Action,
    Answer,
    AnswerType,
    Channel,
    Consultee,
    ConsultThirdParty,
    DisclosureRequest,
    EndConsultation,
    Extend,
    ReceiveCorrection,
    RequestCorrection,
    RequestState,
    publication_clock,
    receive_request,
    transition,
)

D0 = date(2026, 3, 2)  # a Monday clear of holidays


def d(days: int) -> date:
    return D0 + timedelta(days=days)


def reply_clock(start: date = D0) -> Clock:
    return start_clock("disclosure.reply", start)


def request() -> DisclosureRequest:
    return receive_request("g-1", Channel.ONLINE, D0)


def consulting(on: date = d(3)) -> DisclosureRequest:
    return transition(request(), ConsultThirdParty(on))


def test_reply_is_due_20_working_days_after_receipt() -> None:
    r = request()
    assert (r.state, r.channel) == (RequestState.RECEIVED, Channel.ONLINE)
    assert r.due_on == reply_clock().due_on == d(28)
    assert r.clock_status(r.due_on) is ClockStatus.RUNNING
    assert r.clock_status(d(29)) is ClockStatus.OVERDUE
    assert r.overdue(d(29))


# --- 补正 correction ---------------------------------------------------------------------------


def test_correction_restarts_the_reply_clock_from_the_corrected_request() -> None:
    r = transition(request(), RequestCorrection(d(4), "请明确所需文件名称"))
    assert r.state is RequestState.CORRECTION_REQUESTED
    assert r.clock_status(d(60)) is ClockStatus.PAUSED
    assert not r.overdue(d(60))
    r = transition(r, ReceiveCorrection(d(20)))
    assert r.state is RequestState.RECEIVED
    assert r.due_on == reply_clock(d(20)).due_on
    assert [s.action for s in r.history] == ["request_correction", "receive_correction"]
    assert r.history[0].note == "请明确所需文件名称"


def test_correction_notice_is_given_once() -> None:
    r = transition(request(), RequestCorrection(d(1), "a"))
    r = transition(r, ReceiveCorrection(d(2)))
    with pytest.raises(IllegalTransition, match="given once"):
        transition(r, RequestCorrection(d(3), "b"))


def test_correction_notice_after_7_working_days_is_refused() -> None:
    deadline = start_clock("disclosure.correction", D0).due_on
    assert deadline == d(9)
    assert transition(request(), RequestCorrection(deadline, "x")).correction_requested
    with pytest.raises(IllegalTransition, match="correction notice was due by 2026-03-11"):
        transition(request(), RequestCorrection(deadline + timedelta(days=1), "x"))


def test_request_not_corrected_in_time_is_deemed_abandoned() -> None:
    r = transition(request(), RequestCorrection(d(1), "x"))
    r = transition(r, Abandon(d(30)))
    assert r.state is RequestState.ABANDONED
    with pytest.raises(IllegalTransition, match="allowed: none"):
        transition(r, ReceiveCorrection(d(31)))


# --- third-party consultation ------------------------------------------------------------------


def test_third_party_consultation_pauses_the_reply_clock() -> None:
    r = consulting(d(3))
    assert r.state is RequestState.CONSULTING_THIRD_PARTY
    assert r.clock_status(d(100)) is ClockStatus.PAUSED
    assert r.consultation_clock is not None
    assert r.consultation_clock.due_on == start_clock("disclosure.third_party", d(3)).due_on
    back = transition(r, EndConsultation(d(10), agrees=False))
    assert back.state is RequestState.RECEIVED
    assert back.consultation_clock is None
    assert back.due_on == reply_clock().pause(on=d(3)).resume(on=d(10)).due_on
    assert back.due_on > request().due_on
    assert back.history[-1].note == "objects"


def test_consultation_without_reply_ends_only_after_15_working_days() -> None:
    r = consulting(d(3))
    assert r.consultation_clock is not None
    lapse = r.consultation_clock.due_on
    with pytest.raises(IllegalTransition, match="has until"):
        transition(r, EndConsultation(lapse, agrees=None))
    back = transition(r, EndConsultation(lapse + timedelta(days=1), agrees=None))
    assert back.history[-1].note == "no reply"


def test_co_authoring_agency_consultation_uses_its_own_rule() -> None:
    r = transition(request(), ConsultThirdParty(d(1), Consultee.AGENCY))
    assert r.consultation_clock is not None
    assert r.consultation_clock.rule.name == "disclosure.agency_consultation"


def test_answer_waits_for_the_consultation_to_end() -> None:
    with pytest.raises(IllegalTransition, match="cannot answer; allowed: end_consultation"):
        transition(consulting(), Answer(d(5), AnswerType.DISCLOSED))


# --- extension ---------------------------------------------------------------------------------


def test_reply_period_may_be_extended_once_by_20_working_days_with_approval() -> None:
    r = transition(request(), Extend(d(20), "公开办主任"))
    assert r.state is RequestState.EXTENDED
    assert r.extension_approved_by == "公开办主任"
    assert r.due_on == reply_clock().extend(on=d(20)).due_on
    with pytest.raises(
        IllegalTransition, match="cannot extend; allowed: answer, consult_third_party"
    ):
        transition(r, Extend(d(21), "x"))


def test_extension_needs_an_approver_and_must_come_before_the_deadline() -> None:
    with pytest.raises(IllegalTransition, match="approver"):
        transition(request(), Extend(d(1), ""))
    with pytest.raises(IllegalTransition, match="already ended"):
        transition(request(), Extend(d(29), "x"))


def test_consultation_during_an_extension_returns_to_the_extension() -> None:
    r = transition(request(), Extend(d(20), "主任"))
    r = transition(r, ConsultThirdParty(d(21)))
    r = transition(r, EndConsultation(d(25), agrees=True))
    assert r.state is RequestState.EXTENDED
    assert r.due_on == reply_clock().extend(on=d(20)).pause(on=d(21)).resume(on=d(25)).due_on


# --- answers -----------------------------------------------------------------------------------


def test_answer_types_name_article_36s_seven_answers_plus_partial_and_unprocessed() -> None:
    assert [a.value for a in AnswerType] == [
        "already_public",
        "disclosed",
        "not_disclosed",
        "not_held",
        "not_our_remit",
        "duplicate",
        "special_procedure",
        "partially_disclosed",
        "not_processed",
    ]


@pytest.mark.parametrize("kind", [a for a in AnswerType if a.needs_reason])
def test_refusals_must_give_their_reason(kind: AnswerType) -> None:
    with pytest.raises(IllegalTransition, match="must give its reason"):
        transition(request(), Answer(d(5), kind, " "))
    assert transition(request(), Answer(d(5), kind, "涉及商业秘密")).answer_type is kind


@pytest.mark.parametrize("kind", [a for a in AnswerType if not a.needs_reason])
def test_other_answers_need_no_reason(kind: AnswerType) -> None:
    assert transition(request(), Answer(d(5), kind)).state is RequestState.ANSWERED


def test_answer_on_time_meets_the_clock() -> None:
    r = transition(request(), Answer(d(10), AnswerType.DISCLOSED))
    assert (r.answered_on, r.clock_status(d(10)), r.overdue(d(100))) == (
        d(10),
        ClockStatus.MET,
        False,
    )
    assert r.clock_status(d(9)) is ClockStatus.RUNNING, "before the answer the clock was running"


def test_late_answer_still_meets_the_clock_but_shows_the_days_late() -> None:
    r = transition(request(), Answer(d(35), AnswerType.NOT_HELD))
    assert r.clock_status(d(35)) is ClockStatus.MET
    assert r.clock.days_overdue(d(35)) == 7


def test_answered_request_is_terminal() -> None:
    r = transition(request(), Answer(d(1), AnswerType.ALREADY_PUBLIC))
    with pytest.raises(IllegalTransition, match="state 'answered' cannot extend; allowed: none"):
        transition(r, Extend(d(2), "x"))


def test_actions_dated_before_the_last_step_are_refused() -> None:
    r = transition(request(), Extend(d(10), "x"))
    with pytest.raises(IllegalTransition, match="before the last step on 2026-03-12"):
        transition(r, Answer(d(9), AnswerType.DISCLOSED))


# --- proactive publication ---------------------------------------------------------------------


def test_proactive_publication_is_due_20_working_days_after_the_document_is_made() -> None:
    clock = publication_clock(D0)
    assert clock.due_on == start_clock("publication.proactive", D0).due_on == d(28)
    assert clock.status(d(20), met_on=d(15)) is ClockStatus.MET
    assert clock.status(d(29)) is ClockStatus.OVERDUE


# --- random sequences --------------------------------------------------------------------------

days = st.integers(0, 60).map(d)
actions = st.one_of(
    st.builds(RequestCorrection, days, st.just("x")),
    st.builds(ReceiveCorrection, days),
    st.builds(Abandon, days),
    st.builds(ConsultThirdParty, days, st.sampled_from(Consultee)),
    st.builds(EndConsultation, days, st.none() | st.booleans()),
    st.builds(Extend, days, st.sampled_from(["", "head"])),
    st.builds(Answer, days, st.sampled_from(AnswerType), st.sampled_from(["", "why"])),
)


@given(st.lists(actions, max_size=12), st.booleans())
def test_random_commands_only_ever_fail_with_illegal_transition(
    commands: list[Action], in_date_order: bool
) -> None:
    r = request()
    for action in sorted(commands, key=lambda a: a.on) if in_date_order else commands:
        try:
            r = transition(r, action)
        except IllegalTransition:
            continue
        paused = r.state in (
            RequestState.CORRECTION_REQUESTED,
            RequestState.CONSULTING_THIRD_PARTY,
            RequestState.ABANDONED,
        )
        assert (r.clock.paused_on is not None) == paused
        assert (r.consultation_clock is not None) == (
            r.state is RequestState.CONSULTING_THIRD_PARTY
        )
        assert (r.answered_on is not None) == (r.state is RequestState.ANSWERED)


def test_a_major_decision_runs_on_its_machine() -> None:
    from open_government.domain.decisions import (
        Adopt,
        DecisionStatus,
        Evaluate,
        List,
        RecordStep,
        Withdraw,
        transition,
    )

    assert transition(None, List()) is DecisionStatus.LISTED
    assert transition("listed", RecordStep()) is DecisionStatus.LISTED
    assert transition("listed", Withdraw()) is DecisionStatus.WITHDRAWN
    assert transition("withdrawn", List()) is DecisionStatus.LISTED
    assert transition(None, Adopt()) is DecisionStatus.ADOPTED
    assert transition("adopted", List()) is DecisionStatus.ADOPTED
    assert transition("adopted", Evaluate()) is DecisionStatus.EVALUATED
    refused = [
        ("adopted", Withdraw(), "it stays in the catalogue"),
        ("withdrawn", Adopt(), "taken out of the catalogue"),
        ("listed", Evaluate(), "nothing to evaluate"),
        (None, RecordStep(), "not in a catalogue"),
    ]
    for stored, command, reason in refused:
        with pytest.raises(IllegalTransition, match=reason):
            transition(stored, command)
