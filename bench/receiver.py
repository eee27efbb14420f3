"""The deliveries benchmark's receiver: a bare app that answers 200 to every POST and keeps,
per CloudEvent id, the wall-clock times it arrived (`GET /stats`; `POST /reset` forgets them).

    uvicorn receiver:create_app --factory --app-dir bench --port 19051 <the Procfile's flags>
"""

from __future__ import annotations

import json
import time

from fastapi import FastAPI, Request, Response


def create_app() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    seen: dict[str, list[float]] = {}

    @app.post("/r/{n}")
    async def receive(n: int, request: Request) -> Response:
        body = await request.body()
        at = time.time()
        event_id = json.loads(body).get("id", "")
        seen.setdefault(event_id, []).append(at)
        return Response(status_code=200)

    @app.get("/stats")
    async def stats() -> dict[str, list[float]]:
        return seen

    @app.post("/reset")
    async def reset() -> dict[str, int]:
        count = sum(len(v) for v in seen.values())
        seen.clear()
        return {"forgot": count}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
