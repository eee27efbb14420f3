"""What a replay compares and where it starts: the document differences it prints, the
processing fields it leaves out, the window of the log it takes. (The replay itself, on the real
stack: tests/e2e/test_replay.py.)"""

from __future__ import annotations

import io

from fazhi.bus.replay import (
    PROCESSING_FIELDS,
    Progress,
    Window,
    _field_differences,
    _without,
    carried_collections,
    ignored,
)
from fazhi.store.projection import LEDGER
from open_government.worker import WORKER as OPENGOV
from supervision.worker import WORKER as SUPERVISION


def test_the_processing_fields_are_named_in_one_place_and_left_out() -> None:
    assert ignored("tasks") == ("_v", "_pos")
    assert set(ignored(LEDGER)) == {"_v", "_pos", "processed_at", "duplicate.at", "version"}
    assert set(PROCESSING_FIELDS) == {"*", LEDGER}
    entry = {
        "_id": "k",
        "_v": 3,
        "_pos": {"t~0": 4},
        "outcome": "applied",
        "processed_at": 1,
        "version": 2,
        "duplicate": {"offset": 9, "at": 5},
    }
    assert _without(entry, ignored(LEDGER)) == {
        "_id": "k",
        "outcome": "applied",
        "duplicate": {"offset": 9},
    }


def test_a_difference_names_the_field_path_and_both_values() -> None:
    live = {"hours": 12.0, "nested": {"a": 1, "b": [1, 2]}, "gone": True}
    rebuilt = {"hours": 24.0, "nested": {"a": 1, "b": [2, 1]}, "new": "x"}
    assert _field_differences(live, rebuilt) == [
        "gone: only live has it (True)",
        "hours: live 12.0, rebuilt 24.0",
        "nested.b: live [1, 2], rebuilt [2, 1]",
        "new: only the rebuilt has it ('x')",
    ]
    assert _field_differences(live, dict(live)) == []


def test_a_window_reads_json_offsets_and_leaves_other_partitions_whole() -> None:
    window = Window.of(
        {"from": {"supervision.events": {"0": 5}}, "to": {"opengov.events": {"3": 7}}}
    )
    assert window.start("supervision.events", 0) == 5
    assert window.start("supervision.events", 1) is None
    assert window.end("opengov.events", 3) == 7
    assert Window.of({}).end("opengov.events", 3) is None


def test_timer_watermarks_and_registries_are_carried_over_not_rebuilt() -> None:
    assert carried_collections(SUPERVISION.timers, SUPERVISION.carried) == ["watch"]
    carried = carried_collections(OPENGOV.timers, OPENGOV.carried)
    assert {"timers", "document_numbers", "number_claims", "number_sequences"} <= set(carried)


def test_progress_counts_per_topic_on_one_line() -> None:
    out = io.StringIO()
    bar = Progress({"supervision.events": 4, "emergency.events": 0}, out, every_s=0)
    bar.add("supervision.events", 2)
    bar.finish()
    last = out.getvalue().strip().splitlines()[-1]
    assert "supervision.events [##########..........] 2/4" in last
    assert "emergency.events [####################] 0/0" in last
