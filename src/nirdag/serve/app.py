"""The ASGI app of ``nirdag serve`` (FastAPI): the routes, the guard in front of them, and every error as a 4xx
with a one-line reason."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from datafusion_engine import StoreError
from nirdag.plots import ChainNotFound, MissingPlotData
from nirdag.serve import pages, routes_predict, routes_runs, routes_sql
from nirdag.serve.config import ServeConfig
from nirdag.serve.errors import RequestError
from nirdag.serve.metrics import CONTENT_TYPE
from nirdag.serve.middleware import Guard
from nirdag.serve.state import ServerState, open_state
from nirs_core.errors import NirdagError
from semantics.errors import RunNotFound

_DESCRIPTION = """A read-only view of one nirdag workspace (runs, ranked chains, provenance, pictures, the report,
SQL) and predictions from the bundles loaded at start-up. Every error is a 4xx whose JSON body is
`{"detail": "<one line>"}`."""


_REASON = {"application/json": {"schema": {"type": "object", "required": ["detail"],
                                          "properties": {"detail": {"type": "string"}}}}}
# Every error a route may give, each answered as {"detail": "<one line>"} (also 422: not FastAPI's list of errors).
ERRORS = {status: {"description": what, "content": _REASON} for status, what in (
    (400, "bad input: malformed body, wrong spectra, a refused or failed SQL statement"),
    (401, "missing or wrong bearer token"), (404, "unknown run, chain, bundle or figure"),
    (406, "no acceptable answer format"), (409, "the run is not completed"),
    (413, "body over the size limit"), (415, "unsupported body format"),
    (422, "the request does not fit the schema"))}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:2000]


def _status(exc: NirdagError) -> int:
    """The HTTP status of a typed error: not found (404), a run in a state that cannot be shown (409), anything
    else the request got wrong (400)."""
    if isinstance(exc, RequestError):
        return exc.status
    if isinstance(exc, RunNotFound | MissingPlotData | ChainNotFound):
        return 404
    if isinstance(exc, StoreError):
        return 409
    return 400


def _validation_reason(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        if error.get("type") == "json_invalid":
            parts.append(f"malformed JSON body: {error.get('ctx', {}).get('error', 'cannot be parsed')}")
            continue
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(NirdagError)
    async def typed(request: Request, exc: NirdagError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(exc)}, status_code=_status(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _one_line(_validation_reason(exc))}, status_code=422)

    @app.exception_handler(HTTPException)
    async def http(request: Request, exc: HTTPException) -> Response:
        return JSONResponse({"detail": _one_line(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


def create_app(config: ServeConfig, state: ServerState | None = None) -> FastAPI:
    """The app of ``config``: the workspace checked and the bundles verified and loaded once (``state`` given:
    those already opened)."""
    state = state if state is not None else open_state(config)
    app = FastAPI(title="nirdag serve", description=_DESCRIPTION, version=version("nirdag"), docs_url="/docs",
                  redoc_url=None, openapi_url="/openapi.json")
    app.state.nirdag = state
    _handlers(app)
    app.include_router(routes_runs.router, responses=ERRORS)
    app.include_router(routes_sql.router, responses=ERRORS)
    app.include_router(routes_predict.router, responses=ERRORS)
    app.include_router(pages.router)

    @app.get("/metrics", tags=["server"], summary="Prometheus metrics", response_class=Response,
             responses={200: {"content": {"text/plain": {}}}})
    def metrics() -> Response:
        """Requests by route and status, a latency histogram by route, spectra predicted by bundle."""
        return Response(state.metrics.text(), media_type=CONTENT_TYPE)

    app.add_middleware(Guard, token=config.token, max_body=config.max_body_bytes, metrics=state.metrics)
    return app
