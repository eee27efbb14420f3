"""Cases 案件: petitions, mediation, adjudication, reconsideration and litigation response, each
on its type's machine, with their statutory clocks."""

from petition_mediation.cases import document, reports, timers, views

__all__ = ["document", "reports", "timers", "views"]
