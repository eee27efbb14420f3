"""Event types owned by open-government 政务公开 and their payloads."""

from __future__ import annotations

from pydantic import AwareDatetime

from fazhi.catalog import EventCatalog, EventType
from fazhi.models import Applicant, Id, LongText, Payload, ShortText, UnitCode
from fazhi.topology import OPEN_GOVERNMENT
from open_government.domain import AnswerType, Channel
from open_government.store import DOCUMENTS, REQUESTS

TOPIC = OPEN_GOVERNMENT.topic


class RequestReceived(Payload):
    request_id: Id
    applicant: Applicant
    content: LongText
    channel: Channel
    received_at: AwareDatetime


class RequestAnswered(Payload):
    request_id: Id
    answer_type: AnswerType
    answered_at: AwareDatetime
    reason: ShortText = ""
    """Why it is not (fully) disclosed: required for the answers of arts. 35, 36(3), 36(5), 37."""


class DocumentPublished(Payload):
    document_id: Id
    doc_kind: ShortText
    title: ShortText
    number: str = ""
    issuing_unit: UnitCode
    body: LongText
    published_at: AwareDatetime


CATALOG = EventCatalog.of(
    "open_government",
    TOPIC,
    [
        EventType(
            "opengov.request.received", RequestReceived, "request_id", REQUESTS, creates=True
        ),
        EventType("opengov.request.answered", RequestAnswered, "request_id", REQUESTS),
        EventType(
            "opengov.document.published", DocumentPublished, "document_id", DOCUMENTS, creates=True
        ),
    ],
)
