"""The runs of the workspace: list, summary, ranked chains (paginated), provenance, the DAG picture, the report and
its figures. Every run is named as on the command line: a run id, a unique prefix of one, or ``latest``."""

from __future__ import annotations

from importlib.metadata import version

import msgspec
from fastapi import APIRouter, Query, Request
from graphviz import ExecutableNotFound
from starlette.responses import HTMLResponse, Response

from datafusion_engine.errors import NoResultsYet
from nirdag.output import json_records
from nirdag.plots import PLOT_KINDS, RunData, check_kind, draw
from nirdag.plots.render import figure_bytes
from nirdag.provenance_view import INTERNAL_KINDS
from nirdag.report import gather
from nirdag.report.html import render_html
from nirdag.serve.errors import NotFound, Unavailable
from nirdag.serve.state import ServerState

router = APIRouter()
SVG = "image/svg+xml"
_RUN = "A run id, a unique prefix of one, or 'latest' (the newest completed run)."
_CHAIN = "'best' (the chain ranked first), a chain id or a prefix of at least 8 characters."
_CHAIN_REF = r"^(best|[0-9a-f]{8,64})$"  # chain ids are sha256 hex


def _state(request: Request) -> ServerState:
    return request.app.state.nirdag


def _json(text: str) -> Response:
    return Response(text.encode("utf-8"), media_type="application/json")


def _svg_response(content: bytes) -> Response:
    return Response(content, media_type=SVG, headers={"Cache-Control": "private, max-age=300"})


@router.get("/health", tags=["server"], summary="Liveness and what the server holds")
def health(request: Request) -> dict:
    """Always answered, also without the token: the version and the bundle names."""
    return {"status": "ok", "nirdag_version": version("nirdag"), "bundles": sorted(_state(request).bundles)}


@router.get("/runs", tags=["runs"], summary="The runs of the workspace, newest first")
def runs(request: Request) -> Response:
    """One record per run: run_id, status, started_at, finished_at, dataset_hash, pipeline_hash, seed, error."""
    try:
        table = _state(request).workspace.runs()
    except NoResultsYet:
        return _json("[]")
    return _json(json_records(table))


@router.get("/runs/{run}", tags=["runs"], summary="A run's summary")
def run_summary(request: Request, run: str) -> Response:
    """Status, identities, chain count, rank metric and best chain of one run (as ``nirdag runs show``)."""
    state = _state(request)
    return _json(json_records(state.workspace.run_summary(state.resolve(run)))[1:-1])


@router.get("/runs/{run}/chains", tags=["runs"], summary="A run's chains in its ranking, one page")
def chains(request: Request, run: str, offset: int = Query(0, ge=0, le=1_000_000),
           limit: int = Query(50, ge=1, le=1_000)) -> Response:
    """``{"run_id", "total", "offset", "limit", "chains": [...]}``: the chains ranked ``offset + 1`` to
    ``offset + limit`` (rank 1 is the best by the run's rank metric), with their CV and test errors."""
    result = _state(request).run(run)
    total = len(result.plan.chains)
    page = result.top(min(offset + limit, total)).slice(offset) if offset < total else result.top(1).slice(0, 0)
    extra = f', "run_id": "{result.run_id}", "total": {total}, "offset": {offset}, "limit": {limit}'
    return _json(f'{{"chains": {json_records(page)}{extra}}}')


@router.get("/runs/{run}/provenance", tags=["runs"], summary="A run's decision provenance graph")
def provenance(request: Request, run: str) -> Response:
    """Every decision of the run with its reason, evidence and the decisions it depends on (as ``nirdag provenance
    --format json``)."""
    state = _state(request)
    return Response(state.workspace.provenance(state.resolve(run)).to_json(), media_type="application/json")


def dag_svg_bytes(state: ServerState, ref: str) -> bytes:
    """The executed DAG of a run as SVG (coloured by node time, cache hits marked), drawn once."""
    result = state.run(ref)

    def drawn() -> bytes:
        try:
            return result.dag().pipe(format="svg")
        except ExecutableNotFound:
            raise Unavailable("drawing the DAG needs Graphviz's dot program on the server (apt-get install "
                              "graphviz)") from None

    return state.picture((result.run_id, "dag"), drawn)


@router.get("/runs/{run}/dag.svg", tags=["runs"], summary="A run's executed DAG as SVG",
            response_class=Response, responses={200: {"content": {SVG: {}}}})
def dag_svg(request: Request, run: str) -> Response:
    return _svg_response(dag_svg_bytes(_state(request), run))


@router.get("/runs/{run}/report", tags=["runs"], summary="A run's calibration report (HTML)",
            response_class=HTMLResponse)
def report(request: Request, run: str,
           chain: str = Query("best", description=_CHAIN, pattern=_CHAIN_REF)) -> HTMLResponse:
    """The self-contained page ``nirdag report`` writes (inline SVG figures, no script)."""
    state = _state(request)
    result = state.run(run)
    page = state.picture((result.run_id, "report", chain), lambda: render_html(
        gather(result, chain), result.workspace).encode("utf-8"))
    return HTMLResponse(page)


@router.get("/runs/{run}/plots/{kind}.svg", tags=["runs"], summary="One figure of a run as SVG",
            response_class=Response, responses={200: {"content": {SVG: {}}}})
def plot(request: Request, run: str, kind: str, chain: str = Query("best", description=_CHAIN, pattern=_CHAIN_REF),
         target: str | None = Query(None, description="The target drawn (default: the run's first).")
         ) -> Response:
    """The figure ``kind`` (components, pred_vs_measured, residuals, coefficients, scores, influence, spectra,
    fold_heatmap, confusion, class_scores); 404 with the reason when the run holds no data for it."""
    state = _state(request)
    if kind not in PLOT_KINDS:
        raise NotFound(f"no figure kind {kind!r}; kinds: {', '.join(PLOT_KINDS)}")
    result = state.run(run)
    data = RunData(result.handle, result.run_id, result.plan, result.dataset)
    return _svg_response(state.picture((result.run_id, "plot", kind, chain, target or ""), lambda: figure_bytes(
        draw(data, check_kind(kind), chain=chain, target=target), "svg", salt=kind)))


def provenance_nodes(state: ServerState, ref: str, *, verbose: bool = False) -> list[dict]:
    """The provenance graph as a tree for the run page: each decision under the first one it depends on (as
    ``nirdag provenance`` prints it), the views' join decisions left out unless ``verbose``."""
    graph = state.workspace.provenance(state.resolve(ref))
    roots: list[dict] = []
    nodes: dict[str, dict] = {}
    for d in graph.decisions:
        if d.kind in INTERNAL_KINDS and not verbose:
            continue
        node = {**msgspec.to_builtins(d), "children": []}
        parent = nodes.get(d.depends_on[0]) if d.depends_on else None
        (parent["children"] if parent is not None else roots).append(node)
        nodes[d.id] = node
    return roots
