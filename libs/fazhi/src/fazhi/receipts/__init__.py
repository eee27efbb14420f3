"""Receipts 回执: what became of each event a key posted, found by its id.

An event is `accepted` once Kafka holds it, then `applied` (the aggregate and the version that
first holds it), `refused` (an RFC 9457 problem: the domain's reason, the article it cites, the
step the aggregate was in) or `duplicate` (its id was applied before, from another record).

Two documents tell it, both found by `_id` (`source` + `id`, the event's key):

- the owning worker's ledger entry (`processed_events`), written in the batch that applies or
  refuses the event: the claim carries the aggregate and its version, a refusal's correction
  the problem, a re-post's the record it came in. The ledger *is* the receipt store, so
  applying an event costs no write of its own;
- the api's note of the record the broker acknowledged (`accepted_events`), kept off the
  request path by `ReceiptWriter` (held a moment and written only if the worker has not
  answered for the record by then; the 202 never waits for it, and it never goes into the
  ledger, where the worker would take it for a duplicate). It tells `accepted` before the
  worker got to the event, and that a refused event was posted again and is on its way. The
  entry keeps the record's subject and time, so a receipt needs no note once the worker has it.

`rules.receipt` reads the two; `refusals` is what the worker keeps of a refusal, `writer` and
`views` the api's side.
"""

from fazhi.receipts.refusals import articles_in, refusal_of

__all__ = ["articles_in", "refusal_of"]
