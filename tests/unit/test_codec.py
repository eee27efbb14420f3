"""Domain objects survive the trip to a document and back: states, dates, enums, clocks."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from fazhi.store.codec import clock_summary, decode, encode
from open_government.domain import Answer, AnswerType, Channel, receive_request, transition
from petition_mediation.codec import decode_case, encode_case
from petition_mediation.domain import (
    Accept,
    Case,
    CaseType,
    Procedure,
    RecordHearing,
    Refer,
    SimplifiedGround,
    StartMediation,
    file_litigation,
    file_mediation,
    file_petition,
    file_reconsideration,
)
from petition_mediation.domain import (
    Channel as MediationChannel,
)
from petition_mediation.domain import (
    transition as case_transition,
)

FILED = date(2026, 11, 2)


@pytest.mark.parametrize(
    ("case_type", "case"),
    [
        (CaseType.PETITION, case_transition(file_petition("P", FILED), Accept(date(2026, 11, 4)))),
        (
            CaseType.RECONSIDERATION,
            case_transition(
                file_reconsideration("R", FILED),
                Accept(date(2026, 11, 3), Procedure.SIMPLIFIED, SimplifiedGround.OPEN_GOVERNMENT),
            ),
        ),
        (
            CaseType.MEDIATION,
            case_transition(
                case_transition(file_mediation("M", FILED), StartMediation(date(2026, 11, 3))),
                Refer(date(2026, 11, 5), MediationChannel.PEOPLES, "区人民调解委员会"),
            ),
        ),
        (
            CaseType.LITIGATION,
            case_transition(file_litigation("L", FILED), RecordHearing(date(2026, 11, 20), True)),
        ),
    ],
)
def test_a_case_comes_back_as_it_was_stored(case_type: CaseType, case: Case) -> None:
    back = decode_case(case_type, encode_case(case))
    assert back == dataclasses.replace(case, history=case.history[-1:])
    assert back.due_on == case.due_on


def test_a_request_keeps_its_clock_and_answer() -> None:
    request = transition(
        receive_request("R1", Channel.ONLINE, date(2026, 9, 25)),
        Answer(date(2026, 10, 9), AnswerType.DISCLOSED),
    )
    back = decode(type(request), encode(request))
    assert back == request
    assert clock_summary(back.clock) == {
        "name": "disclosure.reply",
        "due_date": "2026-10-29",
        "provisional": False,
    }
