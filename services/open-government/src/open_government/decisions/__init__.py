"""Major administrative decisions 重大行政决策: the yearly catalogue, procedure steps, adoption
and post-evaluation."""

from open_government.decisions import flows, views

__all__ = ["flows", "views"]
