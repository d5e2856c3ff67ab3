"""The web pages (server-rendered Jinja2, one small plain script, nothing from the network): the runs list at
``/``, a run page, the SQL console, the predict page and the sign-in page of a server with a token."""

from __future__ import annotations

import hmac
from importlib import resources

import msgspec
from fastapi import APIRouter, Request
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, JSONResponse, Response

from datafusion_engine.errors import NoResultsYet
from nirdag.plots import DESCRIPTIONS
from nirdag.report.content import figure_kinds
from nirdag.serve.errors import NotFound, RequestError, Unauthorized
from nirdag.serve.middleware import TOKEN_COOKIE
from nirdag.serve.routes_runs import provenance_nodes
from nirdag.serve.state import ServerState

router = APIRouter(include_in_schema=False)
_STATIC = {"app.js": "text/javascript", "app.css": "text/css"}
_CHAINS_SHOWN = 20  # the rest through /runs/{run}/chains
_ENV = Environment(loader=PackageLoader("nirdag.serve", "templates"), undefined=StrictUndefined,
                   autoescape=select_autoescape(enabled_extensions=("html", "j2"), default_for_string=True))


class SignIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    token: str


def _state(request: Request) -> ServerState:
    return request.app.state.nirdag


def _page(name: str, request: Request, **values) -> HTMLResponse:
    state = _state(request)
    return HTMLResponse(_ENV.get_template(name).render(workspace=state.workspace.path.name,
                                                       signed=state.config.token is not None, **values))


@router.get("/")
def runs_page(request: Request) -> HTMLResponse:
    try:
        runs = _state(request).workspace.runs().to_pylist()
    except NoResultsYet:
        runs = []
    return _page("runs.html.j2", request, runs=runs)


@router.get("/ui/runs/{run}")
def run_page(request: Request, run: str) -> HTMLResponse:
    state = _state(request)
    result = state.run(run)
    summary = state.workspace.run_summary(result.run_id).to_pylist()[0]
    ranked = result.top(_CHAINS_SHOWN)
    figures = [(kind, DESCRIPTIONS[kind]) for kind in figure_kinds(result.plan.task)]
    return _page("run.html.j2", request, run_id=result.run_id, summary=summary, columns=ranked.column_names,
                 chains=ranked.to_pylist(), total=len(result.plan.chains), tree=provenance_nodes(state, result.run_id),
                 figures=figures)


@router.get("/ui/sql")
def sql_page(request: Request) -> HTMLResponse:
    return _page("sql.html.j2", request, example="SELECT * FROM v_ranked_chains ORDER BY rank LIMIT 10")


@router.get("/ui/predict")
def predict_page(request: Request) -> HTMLResponse:
    bundles = [(name, b.chain.targets, b.chain.wavelengths.size) for name, b in sorted(_state(request).bundles.items())]
    return _page("predict.html.j2", request, bundles=bundles)


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return _page("login.html.j2", request)


@router.post("/login")
async def login(request: Request) -> Response:
    """Checks the token typed on the sign-in page and keeps it in an HttpOnly, SameSite=Strict cookie."""
    token = _state(request).config.token
    try:
        given = msgspec.json.decode(await request.body(), type=SignIn).token
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise RequestError(f"sign-in body: {exc}") from None
    if token is None or not hmac.compare_digest(given.encode(), token.encode()):
        raise Unauthorized("not this server's token")
    response = JSONResponse({"signed_in": True})
    response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", secure=False, path="/")
    return response


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in _STATIC:
        raise NotFound(f"no static file {name!r}")
    text = (resources.files("nirdag.serve") / "static" / name).read_bytes()
    return Response(text, media_type=_STATIC[name], headers={"Cache-Control": "max-age=3600"})
