"""Open-government rules, pure (dates are passed in): disclosure requests, the publication
registry, major decisions."""

from fazhi.contracts.opengov import AnswerType, Channel, Consultee
from open_government.domain.documents import publication_clock
from open_government.domain.requests import (
    STATUS_LABELS_ZH,
    Abandon,
    Action,
    Answer,
    ConsultThirdParty,
    DisclosureRequest,
    EndConsultation,
    Extend,
    ReceiveCorrection,
    RequestCorrection,
    RequestState,
    receive_request,
    transition,
)

__all__ = [
    "STATUS_LABELS_ZH",
    "Abandon",
    "Action",
    "Answer",
    "AnswerType",
    "Channel",
    "ConsultThirdParty",
    "Consultee",
    "DisclosureRequest",
    "EndConsultation",
    "Extend",
    "ReceiveCorrection",
    "RequestCorrection",
    "RequestState",
    "publication_clock",
    "receive_request",
    "transition",
]
