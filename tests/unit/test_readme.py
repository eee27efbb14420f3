"""The README's samples run: the worked deadline example is what the code computes, and the
reaction sample, executed, opens an item on the in-memory store."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fazhi.bus.records import Outcome
from fazhi.contracts.emergency import AlertIssued
from fazhi.contracts.envelope import CHINA_TZ, new_event
from fazhi.rules.clocks import readme_example, start_clock
from supervision.worker import WORKER
from tests.support.harness import Harness

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_deadline_example_matches_the_code() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("## How deadlines are computed", 1)[1]
    block = section.split("```text\n", 1)[1].split("```", 1)[0]
    assert block.rstrip("\n") == readme_example().rstrip("\n")
    assert (
        readme_example() == start_clock("disclosure.reply", date(2026, 9, 25)).explain().to_text()
    )


def test_readme_shows_both_commands_and_why_not_motor() -> None:
    text = README.read_text(encoding="utf-8")
    assert "make run" in text
    assert "make test" in text
    assert "2026-05-14" in text


def _python_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [part.split("```", 1)[0] for part in text.split("```python\n")[1:]]


def test_the_readme_webhook_receiver_runs_and_takes_each_signed_delivery_once(
    tmp_path: Path,
) -> None:
    import base64
    import json
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx
    from standardwebhooks import Webhook

    (receiver,) = [block for block in _python_blocks() if "BaseHTTPRequestHandler" in block]
    script = tmp_path / "receiver.py"
    script.write_text(receiver, encoding="utf-8")
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "FAZHI_WEBHOOK_SECRET": secret, "HOST": "127.0.0.1", "PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-u", str(script)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(100):
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        event = {"type": "fazhi.receipt.refused", "subject": "C-1", "data": {"reason": "art. 53"}}
        body = json.dumps(event)
        now = datetime.now(CHINA_TZ)
        signed = Webhook(secret).sign("msg_1", now, body)
        headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(now.timestamp()))}
        headers["webhook-signature"] = signed
        assert httpx.post(url, content=body, headers=headers).status_code == 204
        assert httpx.post(url, content=body, headers=headers).status_code == 204  # again
        forged = {**headers, "webhook-signature": "v1,AAAA"}
        assert httpx.post(url, content=body, headers=forged).status_code == 400
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=10)
    assert out.splitlines() == ['fazhi.receipt.refused C-1 {"reason": "art. 53"}']


async def test_every_python_sample_of_the_readme_runs_and_the_reaction_opens_an_item() -> None:
    (sample,) = [block for block in _python_blocks() if "REACTIONS" in block]
    namespace: dict[str, Any] = {}
    exec(compile(sample, "README.md", "exec"), namespace)
    reaction = namespace["open_for_alert"]
    h = Harness(WORKER, handlers={"emergency.alert.issued": reaction})
    at = datetime(2026, 7, 20, 14, 0, tzinfo=CHINA_TZ)
    alert = new_event(
        type="emergency.alert.issued",
        source="/units/emergency-management",
        subject="A-README",
        time=at,
        data={
            "alert_id": "A-README",
            "msg_type": "alert",
            "references": [],
            "level": "red",
            "category": "气象",
            "headline": "暴雨红色预警",
            "description": "未来3小时将出现强降水",
            "area": "碑林区",
            "effective": at.isoformat(),
            "expires": (at + timedelta(hours=6)).isoformat(),
        },
    )
    records = h.records(alert)
    assert await h.replay(records) == [Outcome.APPLIED]
    await h.replay(records)  # the record again, as after a crash before its offset committed
    opened = [event for _, event in h.publisher.published]
    assert {event.type for event in opened} == {"supervision.item.opened"}
    assert {event.id for event in opened} == {opened[0].id}  # the replay derived the same id
    assert opened[0].subject == "alert-A-README"
    assert opened[0].data["unit"] == "emergency-management"
    assert list(namespace["REACTIONS"]) == [AlertIssued]
