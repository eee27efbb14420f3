from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emergency.domain import (
    Acknowledge,
    Alert,
    AlertLevel,
    AlertMessage,
    AlertState,
    CapStatus,
    ChangeResponseLevel,
    CloseIncident,
    EndResponse,
    Grade,
    Incident,
    IncidentState,
    MsgType,
    Regrade,
    ResponseLevel,
    StartResponse,
    acknowledgement_overdue,
    is_public,
    issue_alert,
    needs_public_notice,
    raised,
    transition_alert,
    transition_incident,
)
from fazhi.contracts.envelope import CHINA_TZ
from fazhi.rules.statemachine import IllegalTransition

CST = CHINA_TZ
T0 = datetime(2026, 7, 20, 8, 0, tzinfo=CST)
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
WINDOW = timedelta(minutes=30)


def incident(grade: Grade = Grade.RELATIVELY_SERIOUS) -> Incident:
    return Incident("inc-1", "flood", grade, "内涝", "碑林区", T0)


def message(
    alert_id: str = "a1",
    msg_type: MsgType = MsgType.ALERT,
    level: AlertLevel = AlertLevel.YELLOW,
    sent: datetime = T0,
    references: tuple[str, ...] = (),
    expires: datetime | None = T0 + 12 * H,
    status: CapStatus = CapStatus.ACTUAL,
) -> AlertMessage:
    return AlertMessage(
        alert_id=alert_id,
        msg_type=msg_type,
        level=level,
        category="Met",
        headline="暴雨预警",
        sent=sent,
        effective=sent,
        expires=expires,
        references=references,
        status=status,
    )


def update(
    alert_id: str = "a2",
    refs: tuple[str, ...] = ("a1",),
    level: AlertLevel = AlertLevel.YELLOW,
    sent: datetime = T0,
    expires: datetime | None = T0 + 12 * H,
) -> AlertMessage:
    return message(alert_id, MsgType.UPDATE, level, sent, refs, expires)


def cancel(
    alert_id: str = "a9",
    refs: tuple[str, ...] = ("a1",),
    level: AlertLevel = AlertLevel.YELLOW,
    sent: datetime = T0,
) -> AlertMessage:
    return message(alert_id, MsgType.CANCEL, level, sent, refs)


# --- grades and public notice ------------------------------------------------------------------


def test_grades_follow_article_3_from_particularly_serious_down_to_general() -> None:
    assert [g.severity for g in Grade] == [4, 3, 2, 1]


@pytest.mark.parametrize(
    ("grade", "notice"),
    [
        (Grade.PARTICULARLY_SERIOUS, True),
        (Grade.SERIOUS, True),
        (Grade.RELATIVELY_SERIOUS, True),
        (Grade.GENERAL, False),
    ],
)
def test_public_notice_is_due_for_grade_relatively_serious_and_above(
    grade: Grade, notice: bool
) -> None:
    assert needs_public_notice(grade) is notice
    assert incident(grade).needs_public_notice is notice


# --- incidents ---------------------------------------------------------------------------------


def test_incident_runs_reported_responding_recovering_closed() -> None:
    i = incident()
    assert i.state is IncidentState.REPORTED
    i = transition_incident(i, StartResponse(ResponseLevel.III, T0 + H))
    assert (i.state, i.response_level) == (IncidentState.RESPONDING, ResponseLevel.III)
    i = transition_incident(i, ChangeResponseLevel(ResponseLevel.I, T0 + 2 * H))
    i = transition_incident(i, ChangeResponseLevel(ResponseLevel.II, T0 + 3 * H))
    i = transition_incident(i, EndResponse(T0 + 20 * H))
    assert (i.state, i.response_level) == (IncidentState.RECOVERING, None)
    i = transition_incident(i, CloseIncident(T0 + 200 * H))
    assert (i.state, i.closed_at) == (IncidentState.CLOSED, T0 + 200 * H)
    assert [c.level for c in i.levels] == [
        ResponseLevel.III,
        ResponseLevel.I,
        ResponseLevel.II,
        None,
    ]


def test_response_level_changes_only_while_responding() -> None:
    with pytest.raises(IllegalTransition, match="allowed: close_incident, regrade, start_response"):
        transition_incident(incident(), ChangeResponseLevel(ResponseLevel.I, T0))


def test_changing_to_the_same_response_level_is_refused() -> None:
    i = transition_incident(incident(), StartResponse(ResponseLevel.IV, T0))
    with pytest.raises(IllegalTransition, match="already at level IV"):
        transition_incident(i, ChangeResponseLevel(ResponseLevel.IV, T0))


def test_regrading_up_makes_a_public_notice_due() -> None:
    i = transition_incident(incident(Grade.GENERAL), Regrade(Grade.SERIOUS, T0))
    assert i.needs_public_notice


def test_regrading_to_the_same_grade_or_after_the_response_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="already relatively_serious"):
        transition_incident(incident(), Regrade(Grade.RELATIVELY_SERIOUS, T0))
    i = transition_incident(incident(), StartResponse(ResponseLevel.IV, T0))
    i = transition_incident(i, Regrade(Grade.SERIOUS, T0))
    assert i.grade is Grade.SERIOUS
    i = transition_incident(i, EndResponse(T0))
    with pytest.raises(IllegalTransition, match="state 'recovering'"):
        transition_incident(i, Regrade(Grade.GENERAL, T0))


def test_report_needing_no_response_closes_directly() -> None:
    assert transition_incident(incident(), CloseIncident(T0)).state is IncidentState.CLOSED


def test_incident_cannot_close_while_responding() -> None:
    i = transition_incident(incident(), StartResponse(ResponseLevel.II, T0))
    with pytest.raises(IllegalTransition, match="allowed: change_response_level, end_response"):
        transition_incident(i, CloseIncident(T0))


def test_closed_incident_is_terminal() -> None:
    closed = transition_incident(incident(), CloseIncident(T0))
    for action in (
        StartResponse(ResponseLevel.I, T0),
        Regrade(Grade.GENERAL, T0),
        EndResponse(T0),
        CloseIncident(T0),
    ):
        with pytest.raises(IllegalTransition, match="allowed: none"):
            transition_incident(closed, action)


# --- alerts: levels, publicity -----------------------------------------------------------------


def test_warning_levels_rank_blue_lowest_to_red_highest() -> None:
    ranks = [lv.rank for lv in (AlertLevel.BLUE, AlertLevel.YELLOW, AlertLevel.ORANGE)]
    assert [*ranks, AlertLevel.RED.rank] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("status", "public"),
    [
        (CapStatus.ACTUAL, True),
        (CapStatus.EXERCISE, False),
        (CapStatus.TEST, False),
        (CapStatus.SYSTEM, False),
        (CapStatus.DRAFT, False),
    ],
)
def test_exercise_and_test_alerts_are_never_public(status: CapStatus, public: bool) -> None:
    m = message(status=status)
    assert is_public(m) is public
    assert is_public(issue_alert(m)) is public


# --- alerts: the CAP chain ---------------------------------------------------------------------


def test_chain_starts_with_an_alert_message_without_references() -> None:
    a = issue_alert(message())
    assert (a.alert_id, a.level, a.state_at(T0)) == ("a1", AlertLevel.YELLOW, AlertState.IN_FORCE)
    with pytest.raises(IllegalTransition, match="state 'none' cannot update"):
        issue_alert(update())
    with pytest.raises(IllegalTransition, match="no references"):
        issue_alert(message(references=("x",)))


def test_alert_is_pending_before_it_takes_effect() -> None:
    a = issue_alert(replace(message(), effective=T0 + H))
    assert a.state_at(T0) is AlertState.PENDING
    assert a.state_at(T0 + H) is AlertState.IN_FORCE


def test_update_replaces_the_referenced_alert_in_the_same_chain() -> None:
    a = issue_alert(message())
    b = transition_alert(a, update(level=AlertLevel.ORANGE, sent=T0 + H))
    assert b.alert_id == "a1"
    assert b.current.alert_id == "a2"
    assert b.level is AlertLevel.ORANGE
    assert raised(a, b)
    c = transition_alert(b, update("a3", ("a2",), level=AlertLevel.BLUE, sent=T0 + 2 * H))
    assert not raised(b, c)
    assert [m.alert_id for m in c.messages] == ["a1", "a2", "a3"]


def test_update_must_reference_a_message_of_the_chain() -> None:
    with pytest.raises(IllegalTransition, match="references none of"):
        transition_alert(issue_alert(message()), update(refs=("other",)))


def test_update_reusing_an_id_of_the_chain_is_refused() -> None:
    with pytest.raises(IllegalTransition, match="already in the chain"):
        transition_alert(issue_alert(message()), update("a1"))


def test_an_exercise_chain_cannot_turn_actual() -> None:
    drill = issue_alert(message(status=CapStatus.EXERCISE))
    with pytest.raises(IllegalTransition, match="status actual differs"):
        transition_alert(drill, update())


def test_cancel_ends_the_alert() -> None:
    a = transition_alert(issue_alert(message()), cancel(sent=T0 + H))
    assert a.state_at(T0 + H) is AlertState.CANCELLED
    assert a.state_at(T0 + H - timedelta(seconds=1)) is AlertState.IN_FORCE
    assert a.current.alert_id == "a1", "a cancel ends the chain; it is not a new warning"
    with pytest.raises(IllegalTransition, match="state 'cancelled' cannot update; allowed: none"):
        transition_alert(a, update(sent=T0 + 2 * H, refs=("a9",)))


def test_expiry_ends_the_alert_and_an_update_can_prolong_it_before_then() -> None:
    a = issue_alert(message(expires=T0 + 6 * H))
    assert a.state_at(T0 + 6 * H) is AlertState.EXPIRED
    longer = transition_alert(a, update(sent=T0 + 5 * H, expires=T0 + 24 * H))
    assert longer.state_at(T0 + 6 * H) is AlertState.IN_FORCE
    assert longer.state_at(T0 - H) is AlertState.PENDING
    with pytest.raises(IllegalTransition, match="state 'expired' cannot update"):
        transition_alert(a, update(sent=T0 + 7 * H))


def test_cancelling_at_a_higher_level_does_not_count_as_raising() -> None:
    a = issue_alert(message())
    assert not raised(a, transition_alert(a, cancel(sent=T0 + H, level=AlertLevel.RED)))


def test_alert_without_expiry_stays_in_force_until_cancelled() -> None:
    a = issue_alert(message(expires=None))
    assert a.state_at(T0 + 1000 * H) is AlertState.IN_FORCE


# --- alerts: acknowledgement -------------------------------------------------------------------


def test_unacknowledged_alert_is_overdue_once_the_window_has_passed() -> None:
    a = issue_alert(message())
    assert not acknowledgement_overdue(a, T0 + WINDOW - timedelta(seconds=1), WINDOW)
    assert acknowledgement_overdue(a, T0 + WINDOW, WINDOW)


def test_acknowledged_alert_is_not_overdue() -> None:
    a = transition_alert(issue_alert(message()), Acknowledge("a1", "staff-7", T0 + MIN))
    assert a.acknowledged()
    assert not acknowledgement_overdue(a, T0 + 3 * H, WINDOW)
    assert a.acknowledgements[0].staff_id == "staff-7"


def test_an_update_needs_a_fresh_acknowledgement() -> None:
    a = transition_alert(issue_alert(message()), Acknowledge("a1", "s", T0))
    b = transition_alert(a, update(sent=T0 + H, level=AlertLevel.RED))
    assert not b.acknowledged()
    assert acknowledgement_overdue(b, T0 + H + WINDOW, WINDOW)
    late = transition_alert(b, Acknowledge("a1", "s", T0 + 2 * H))
    assert not late.acknowledged(), "acknowledging the superseded message does not count"


def test_ended_alerts_are_never_acknowledgement_overdue() -> None:
    a = issue_alert(message(expires=T0 + H))
    assert not acknowledgement_overdue(a, T0 + 2 * H, WINDOW)
    c = transition_alert(issue_alert(message()), cancel(sent=T0 + 10 * MIN))
    assert not acknowledgement_overdue(c, T0 + 2 * H, WINDOW)


@pytest.mark.parametrize(
    ("status", "chased"),
    [
        (CapStatus.ACTUAL, True),
        (CapStatus.EXERCISE, True),
        (CapStatus.TEST, False),
        (CapStatus.SYSTEM, False),
        (CapStatus.DRAFT, False),
    ],
)
def test_only_real_warnings_and_drills_need_acknowledgement(
    status: CapStatus, chased: bool
) -> None:
    a = issue_alert(message(status=status))
    assert acknowledgement_overdue(a, T0 + H, WINDOW) is chased


def test_acknowledging_an_unknown_message_or_an_ended_alert_is_refused() -> None:
    a = issue_alert(message())
    with pytest.raises(IllegalTransition, match="not a message of alert a1"):
        transition_alert(a, Acknowledge("zz", "s", T0))
    c = transition_alert(a, cancel(sent=T0 + H))
    with pytest.raises(IllegalTransition, match="cannot acknowledge"):
        transition_alert(c, Acknowledge("a1", "s", T0 + 2 * H))


# --- random sequences --------------------------------------------------------------------------

ids = st.sampled_from(["a1", "a2", "a3", "a4"])
offsets = st.integers(0, 30).map(lambda h: T0 + h * H)
messages = st.builds(
    AlertMessage,
    alert_id=ids,
    msg_type=st.sampled_from(MsgType),
    level=st.sampled_from(AlertLevel),
    category=st.just("Met"),
    headline=st.just("h"),
    sent=offsets,
    effective=offsets,
    expires=st.none() | offsets,
    references=st.lists(ids, max_size=2).map(tuple),
    status=st.sampled_from([CapStatus.ACTUAL, CapStatus.EXERCISE]),
)
acks = st.builds(Acknowledge, ids, st.just("s"), offsets)


@given(st.lists(messages | acks, max_size=10))
def test_random_alert_traffic_only_ever_fails_with_illegal_transition(actions: list[Any]) -> None:
    first = message(expires=T0 + 20 * H)
    a: Alert = issue_alert(first)
    for action in actions:
        try:
            nxt = transition_alert(a, action)
        except IllegalTransition:
            continue
        assert a.state_at(getattr(action, "sent", None) or action.acknowledged_at) not in (
            AlertState.CANCELLED,
            AlertState.EXPIRED,
        )
        a = nxt
        acknowledgement_overdue(a, T0 + 40 * H, WINDOW)
    assert len({m.alert_id for m in a.messages}) == len(a.messages)
    assert a.alert_id == "a1"


incident_actions = st.one_of(
    st.builds(StartResponse, st.sampled_from(ResponseLevel), st.just(T0)),
    st.builds(ChangeResponseLevel, st.sampled_from(ResponseLevel), st.just(T0)),
    st.builds(Regrade, st.sampled_from(Grade), st.just(T0)),
    st.builds(EndResponse, st.just(T0)),
    st.builds(CloseIncident, st.just(T0)),
)


@given(st.lists(incident_actions, max_size=12))
def test_random_incident_commands_keep_the_response_level_consistent(actions: list[Any]) -> None:
    i = incident()
    for action in actions:
        try:
            i = transition_incident(i, action)
        except IllegalTransition:
            continue
        assert (i.response_level is not None) == (i.state is IncidentState.RESPONDING)


def test_minute_buckets_cover_every_minute_in_china_time_both_ends_included() -> None:
    from datetime import UTC

    from emergency.domain import minute_buckets

    start = datetime(2026, 7, 20, 5, 58, 59, tzinfo=UTC)
    assert minute_buckets(start, start + timedelta(minutes=2)) == [
        "2026-07-20T13:58",
        "2026-07-20T13:59",
        "2026-07-20T14:00",
    ]
    assert minute_buckets(start, start - timedelta(minutes=1)) == []
