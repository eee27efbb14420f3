"""Each unit's published list of adjudicable matters 行政裁决事项清单 (measure 十七)."""

from petition_mediation.matters import flows, views

__all__ = ["flows", "views"]
