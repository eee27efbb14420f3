"""Personal fields sealed per aggregate: a round trip for the owner, nothing readable for anyone
else, tampering caught, a shredded or replaced key read as erased."""

from __future__ import annotations

import base64
import os
from datetime import datetime
from typing import Any

import pytest

from fazhi.bus.batch import HandlerContext
from fazhi.bus.reactions import subscribe
from fazhi.bus.records import Outcome
from fazhi.contracts.envelope import CloudEvent, new_event
from fazhi.contracts.mediation import CaseFiled
from fazhi.contracts.models import ERASED_TEXT
from fazhi.store.projection import ERASED, PERSONAL_DATA, RETENTION_DAY
from fazhi.store.sealing import (
    DEVELOPMENT_MASTER_KEY,
    PREFIX,
    Keyring,
    MasterKey,
    MasterKeyError,
    MemoryDataKeys,
    SealError,
    is_sealed,
    seal,
    unseal,
)
from fazhi.web.ingest import personal_id
from petition_mediation.store import CASES, PRIVATE
from petition_mediation.worker import WORKER
from supervision.events import CATALOG as SUPERVISION
from tests.support.harness import Harness
from tests.support.samples import AT, sample

NAME, ID_NUMBER, PHONE = "欧阳明轩", "610103198503021234", "13991234567"


def filed(case_id: str = "C-1", **changes: Any) -> CloudEvent:
    data = sample("mediation.case.filed", case_id)
    data["applicant"] = {"name": NAME, "id_number": ID_NUMBER, "phone": PHONE}
    data["summary"] = f"申请人{NAME}（电话{PHONE}）不服行政处罚决定"
    return new_event(
        type="mediation.case.filed",
        source="/units/justice",
        subject=case_id,
        data={**data, **changes},
        id=f"filed-{case_id}",
        time=datetime.fromisoformat(AT),
    )


def master(raw: bytes | None = None) -> MasterKey:
    secret = base64.b64encode(raw or os.urandom(32)).decode()
    return MasterKey(secret)


async def keyring_with(*ids: str) -> tuple[Keyring, MemoryDataKeys]:
    store = MemoryDataKeys()
    keys = Keyring(store, MasterKey(DEVELOPMENT_MASTER_KEY), ttl_s=0)
    await keys.get(ids, create=True)
    return keys, store


def plain_text(event: CloudEvent) -> str:
    return event.to_bytes().decode()


async def test_round_trip_for_the_owner_and_nothing_readable_on_the_wire() -> None:
    keys, _ = await keyring_with("cases:C-1")
    key = (await keys.get(["cases:C-1"]))["cases:C-1"]
    event = filed()
    sealed = seal(event, CaseFiled, key)
    wire = plain_text(sealed)
    for secret in (NAME, ID_NUMBER, PHONE, "行政处罚决定"):
        assert secret not in wire
    assert all(is_sealed(sealed.data[f]) for f in ("applicant", "summary", "category"))
    assert sealed.data["case_id"] == "C-1"
    assert sealed.data["respondent_unit"] == "market-regulation"
    opened = unseal(sealed, CaseFiled, key)
    assert opened.data == event.data
    assert opened.erased == ()


async def test_each_seal_is_fresh_so_equal_values_do_not_show() -> None:
    keys, _ = await keyring_with("cases:C-1")
    key = (await keys.get(["cases:C-1"]))["cases:C-1"]
    first, second = seal(filed(), CaseFiled, key), seal(filed(), CaseFiled, key)
    assert first.data["applicant"] != second.data["applicant"]


async def test_a_tampered_value_fails_authentication() -> None:
    keys, _ = await keyring_with("cases:C-1")
    key = (await keys.get(["cases:C-1"]))["cases:C-1"]
    sealed = seal(filed(), CaseFiled, key)
    token = sealed.data["summary"]
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    with pytest.raises(SealError, match="altered"):
        unseal(
            sealed.model_copy(update={"data": {**sealed.data, "summary": flipped}}), CaseFiled, key
        )
    bad = sealed.model_copy(update={"data": {**sealed.data, "summary": PREFIX + "!!"}})
    with pytest.raises(SealError, match="not a sealed value"):
        unseal(bad, CaseFiled, key)


async def test_a_sealed_value_cannot_move_to_another_field_or_event() -> None:
    keys, _ = await keyring_with("cases:C-1")
    key = (await keys.get(["cases:C-1"]))["cases:C-1"]
    sealed = seal(filed(), CaseFiled, key)
    swapped = {**sealed.data, "category": sealed.data["summary"]}
    with pytest.raises(SealError):
        unseal(sealed.model_copy(update={"data": swapped}), CaseFiled, key)
    with pytest.raises(SealError):
        unseal(sealed.model_copy(update={"id": "another-event"}), CaseFiled, key)


async def test_another_aggregates_key_or_no_key_reads_as_erased() -> None:
    keys, _ = await keyring_with("cases:C-1", "cases:C-2")
    found = await keys.get(["cases:C-1", "cases:C-2"])
    sealed = seal(filed(), CaseFiled, found["cases:C-1"])
    for key in (found["cases:C-2"], None):
        opened = unseal(sealed, CaseFiled, key)
        assert set(opened.erased) == {"applicant", "summary", "category"}
        assert opened.data["applicant"] == {"name": ERASED_TEXT}
        assert opened.data["summary"] == ERASED_TEXT
        CaseFiled.model_validate(opened.data)  # the event still applies


async def test_another_service_reads_every_personal_field_as_erased_even_plain_ones() -> None:
    opened = unseal(filed(), CaseFiled, None, owner=False)
    assert NAME not in str(opened.data)
    assert PHONE not in str(opened.data)
    assert opened.data["case_id"] == "C-1"


async def test_data_keys_are_stored_wrapped_under_the_master_key() -> None:
    store = MemoryDataKeys()
    keys = Keyring(store, master(b"\x01" * 32), ttl_s=0)
    key = (await keys.get(["cases:C-1"], create=True))["cases:C-1"]
    doc = store.docs["cases:C-1"]
    assert set(doc) >= {"kid", "wrapped", "kek", "created_day"}
    sealed = seal(filed(), CaseFiled, key)
    with pytest.raises(MasterKeyError):
        await Keyring(store, master(b"\x02" * 32), ttl_s=0).get(["cases:C-1"])
    forged = dict(doc, kek=master(b"\x02" * 32).fingerprint)
    with pytest.raises(MasterKeyError):
        master(b"\x02" * 32).unwrap(forged)
    again = (await Keyring(store, master(b"\x01" * 32)).get(["cases:C-1"]))["cases:C-1"]
    assert unseal(sealed, CaseFiled, again).erased == ()


@pytest.mark.parametrize("secret", ["", "c2hvcnQ=", "not base64 at all!"])
def test_a_master_key_is_32_bytes_of_base64(secret: str) -> None:
    with pytest.raises(ValueError, match="32 random bytes"):
        MasterKey(secret)


async def test_the_keyring_reads_each_key_once_while_it_is_fresh() -> None:
    now = [0.0]
    store = MemoryDataKeys()
    reads: list[list[str]] = []
    find = store.find

    async def counting(ids: Any) -> Any:
        reads.append(list(ids))
        return await find(ids)

    store.find = counting  # type: ignore[method-assign]
    keys = Keyring(store, MasterKey(DEVELOPMENT_MASTER_KEY), ttl_s=60, clock=lambda: now[0])
    await keys.get(["cases:A", "cases:B"], create=True)
    await keys.get(["cases:A", "cases:B", "cases:A"])
    assert reads == [["cases:A", "cases:B"]]
    await store.delete(["cases:A"])  # shredded elsewhere
    now[0] = 61.0
    assert list(await keys.get(["cases:A", "cases:B"])) == ["cases:B"]


async def test_the_keyring_is_bounded() -> None:
    keys = Keyring(MemoryDataKeys(), MasterKey(DEVELOPMENT_MASTER_KEY), max_entries=2)
    await keys.get([f"cases:{i}" for i in range(5)], create=True)
    assert len(keys._keys) == 2


# ---------------------------------------------------------------- the owning worker


async def test_the_owning_worker_sees_plain_data_and_stamps_the_retention_day() -> None:
    h = Harness(WORKER)
    assert await h.run(await h.sealed(filed())) == [Outcome.APPLIED]
    doc = h.doc(CASES, "C-1")
    assert doc[PRIVATE]["applicant"]["name"] == NAME
    assert doc[PRIVATE]["applicant"]["phone"] == PHONE
    assert NAME not in doc["summary"]
    assert PHONE not in doc["summary"]
    assert doc[RETENTION_DAY] == AT[:10]
    assert PERSONAL_DATA not in doc


async def test_after_shredding_a_replay_projects_the_case_without_personal_data() -> None:
    h = Harness(WORKER)
    record = h.records(await h.sealed(filed()))
    await h.data_keys.delete(["cases:C-1"])
    assert await h.replay(record) == [Outcome.APPLIED]
    doc = h.doc(CASES, "C-1")
    assert doc[PERSONAL_DATA] == ERASED
    assert doc[PRIVATE]["applicant"] == {
        "name": ERASED_TEXT,
        "kind": "person",
        "id_number": None,
        "phone": None,
        "address": None,
    }
    assert doc["summary"] == ERASED_TEXT
    assert NAME not in str(doc)
    assert PHONE not in str(doc)
    assert ID_NUMBER not in str(doc)


async def test_a_tampered_record_is_dead_lettered_still_sealed() -> None:
    h = Harness(WORKER)
    sealed = await h.sealed(filed())
    token = sealed.data["applicant"]
    tampered = sealed.model_copy(
        update={
            "data": {
                **sealed.data,
                "applicant": token[:-2] + ("AA" if token[-2:] != "AA" else "BB"),
            }
        }
    )
    assert await h.run(tampered) == [Outcome.DEAD_LETTERED]
    assert "altered" in h.errors[0]
    raw = h.letters[0].record.value or b""
    assert NAME.encode() not in raw
    assert PHONE.encode() not in raw


async def test_another_services_reaction_gets_the_event_without_personal_data() -> None:
    seen: list[CaseFiled] = []

    async def react(ctx: HandlerContext, data: CaseFiled) -> None:
        seen.append(data)

    h = Harness(WORKER)
    event = await h.sealed(filed())
    subscription = subscribe(SUPERVISION, {CaseFiled: [react]})
    other = Harness(WORKER, handlers=subscription.handlers)
    other.processor.catalogs = subscription.catalogs
    other.processor.own_topic = SUPERVISION.topic
    other.processor.keyring = h.keyring  # even holding the keys, it is not the owner
    assert await other.run(event) == [Outcome.APPLIED]
    assert seen[0].case_id == "C-1"
    assert seen[0].applicant.name == ERASED_TEXT
    assert NAME not in str(seen[0])
    assert PHONE not in str(seen[0])


# ---------------------------------------------------------------- ids


@pytest.mark.parametrize(
    "value", [ID_NUMBER, PHONE, "C-13991234567", "case-029-88123456", "61010319850302123X"]
)
def test_an_id_that_reads_as_an_id_number_or_phone_is_refused(value: str) -> None:
    assert personal_id(value) is not None


@pytest.mark.parametrize(
    "value",
    [
        "C-1",
        "M18-T1",
        "2026-11-27-001",
        "staff-042",
        "6f1c2a8e-6c55-5b0e-9a55-2f4c0a7d3e11",
        "alert-13800138-0000-4000-8000-000000000000",
    ],
)
def test_case_numbers_and_uuids_are_taken_as_ids(value: str) -> None:
    assert personal_id(value) is None


async def test_the_retention_day_follows_the_last_event_even_without_personal_data() -> None:
    h = Harness(WORKER)
    accepted = new_event(
        type="mediation.case.accepted",
        source="/units/justice",
        subject="C-1",
        data={"case_id": "C-1", "accepted_at": "2026-12-03T09:00:00+08:00"},
        time=datetime.fromisoformat("2026-12-03T09:00:00+08:00"),
    )
    assert await h.run(await h.sealed(filed()), accepted) == [Outcome.APPLIED, Outcome.APPLIED]
    assert h.doc(CASES, "C-1")[RETENTION_DAY] == "2026-12-03"


async def test_an_aggregate_without_personal_data_gets_no_retention_day() -> None:
    from emergency.worker import WORKER as EMERGENCY

    h = Harness(EMERGENCY)
    alert = new_event(
        type="emergency.alert.issued",
        source="/units/emergency-management",
        subject="A-1",
        data=sample("emergency.alert.issued", "A-1"),
    )
    assert await h.run(alert) == [Outcome.APPLIED]
    assert RETENTION_DAY not in h.doc("alerts", "A-1")


async def test_a_rotated_master_key_still_unwraps_old_keys_until_they_are_rewrapped() -> None:
    old, new = base64.b64encode(b"\x01" * 32).decode(), base64.b64encode(b"\x02" * 32).decode()
    store = MemoryDataKeys()
    made = (await Keyring(store, MasterKey(old)).get(["cases:C-1"], create=True))["cases:C-1"]
    sealed = seal(filed(), CaseFiled, made)
    rotated = MasterKey(new, [old])
    assert rotated.older_fingerprints == [MasterKey(old).fingerprint]
    doc = store.docs["cases:C-1"]
    assert unseal(sealed, CaseFiled, rotated.unwrap(doc)).erased == ()
    moved = {**doc, **rotated.rewrap(doc)}
    assert moved["kek"] == MasterKey(new).fingerprint
    assert unseal(sealed, CaseFiled, MasterKey(new).unwrap(moved)).erased == ()
    with pytest.raises(MasterKeyError):
        MasterKey(old).unwrap(moved)
