"""Cases 案件: petitions, mediation, adjudication, reconsideration and litigation response, each
on its type's machine, with their statutory clocks."""

from petition_mediation.cases import commands, document, flows, reports, timers, views

__all__ = ["commands", "document", "flows", "reports", "timers", "views"]
