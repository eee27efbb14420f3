"""The ingest benchmark's reference: a bare FastAPI app that reads a POSTed body and answers 202.

It runs under the same uvicorn command-line flags as the supervision api (taken from the
`Procfile`), so `POST /v1/events` on the api can be compared with the least any FastAPI app on
this uvicorn does per request:

    uvicorn echo:create_app --factory --app-dir bench --port 19002 <the Procfile's flags>
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def create_app() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.post("/v1/events")
    async def events(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"received_bytes": len(body)}, status_code=202)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
