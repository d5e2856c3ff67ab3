"""``GET /bundles`` and ``POST /predict/{bundle}``: new spectra through a bundle verified at start-up, the same rows
:func:`nirdag.predict` returns, each spectrum judged against the bundle's applicability domain."""

from __future__ import annotations

import json
from typing import Literal

import msgspec
import pyarrow as pa
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from nirdag.bundle import LoadedBundle, predict_chain
from nirdag.bundle.predict import DOMAIN_ABSENT_KEY, conform_spectra
from nirdag.serve.encode import MEDIA_TYPES, negotiate, table_response
from nirdag.serve.spectra_input import PredictRequest, Spectra, body_kind, decode_spectra
from nirdag.serve.state import ServerState

router = APIRouter(tags=["predict"])

# A body this small is a handful of spectra, predicted in about a millisecond: on the event loop, that is cheaper
# than a hop to a worker thread. Larger batches run in the thread pool so they never hold other requests up.
_INLINE_BYTES = 64 << 10

_PREDICTION = {"type": "object", "properties": {
    "sample_id": {"type": "string"}, "target": {"type": "string"},
    "y_pred": {"type": ["number", "string", "null"]}, "y_pred_fold_mean": {"type": ["number", "string", "null"]},
    "y_lower": {"type": ["number", "null"]}, "y_upper": {"type": ["number", "null"]},
    "t2": {"type": ["number", "null"]}, "q": {"type": ["number", "null"]}, "t2_ratio": {"type": ["number", "null"]},
    "q_ratio": {"type": ["number", "null"]}, "domain": {"type": ["string", "null"]}}}
_WIDE_TABLE = {"type": "string", "description": "a wide table: an id column (sample_id, id or sample), one column "
                                               "per wavelength named by its value"}
PREDICT_OPENAPI = {
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": msgspec.json.schema(PredictRequest)["$defs"]["PredictRequest"]},
        "text/csv": {"schema": _WIDE_TABLE},
        MEDIA_TYPES["arrow"]: {"schema": {**_WIDE_TABLE, "format": "binary"}}}},
    "responses": {"200": {"description": "one row per spectrum and target", "content": {
        "application/json": {"schema": {"type": "object", "properties": {
            "predictions": {"type": "array", "items": _PREDICTION},
            "domain_absent": {"type": ["string", "null"]}}}},
        "text/csv": {"schema": {"type": "string"}},
        MEDIA_TYPES["arrow"]: {"schema": {"type": "string", "format": "binary"}}}}},
}


def _predict(loaded: LoadedBundle, spectra: Spectra, resample: bool, fold_mean: bool, interval: float | None,
             scale: Literal["absolute", "leverage"]) -> pa.Table:
    chain = loaded.chain
    if spectra.dataset is not None:
        return predict_chain(chain, spectra.dataset, fold_mean=fold_mean, resample=resample, where="request body",
                             interval=interval, interval_scale=scale)
    X = conform_spectra(chain, spectra.matrix, spectra.wavelengths, None, resample=resample, where="request body")
    return predict_chain(chain, X, fold_mean=fold_mean, sample_ids=spectra.sample_ids, where="request body",
                         interval=interval, interval_scale=scale)


def _state(request: Request) -> ServerState:
    return request.app.state.nirdag


@router.get("/bundles", summary="The bundles this server predicts with")
def bundles(request: Request) -> list[dict]:
    """Each bundle loaded at start-up: its name, chain, targets and training axis."""
    out = []
    for name, loaded in sorted(_state(request).bundles.items()):
        chain = loaded.chain
        out.append({"name": name, "chain_id": chain.chain_id, "targets": list(chain.targets),
                    "n_wavelengths": int(chain.wavelengths.size), "first_wavelength": float(chain.wavelengths[0]),
                    "last_wavelength": float(chain.wavelengths[-1]), "wavelength_unit": chain.wavelength_unit,
                    "has_domain": chain.domain_absence() is None})
    return out


@router.post("/predict/{bundle}", summary="Predict spectra with a bundle", openapi_extra=PREDICT_OPENAPI,
             response_class=Response)
async def predict(request: Request, bundle: str,
                  resample: bool = Query(False, description="Interpolate spectra on another axis onto the "
                                                            "training axis (default: refuse them)."),
                  fold_mean: bool = Query(False, description="Also the mean of the CV fold models."),
                  interval: float | None = Query(None, description="Coverage of a split-conformal prediction "
                                                 "interval (e.g. 0.9): adds y_lower and y_upper."),
                  interval_scale: Literal["absolute", "leverage"] = Query(
                      "absolute", description="'absolute' or 'leverage' (widths times sqrt(1 + h))."),
                  ) -> Response:
    """Spectra as JSON ``{"spectra": [[...], ...], "sample_ids": [...], "wavelengths": [...]}``, a wide CSV or an
    Arrow IPC stream; the answer (JSON, CSV or Arrow by ``Accept``) holds ``sample_id, target, y_pred`` and the
    domain columns ``t2, q, t2_ratio, q_ratio, domain`` for each spectrum and target, as ``nirdag.predict``."""
    state = _state(request)
    loaded = state.bundle(bundle)
    encoding = negotiate(request.headers.get("accept"))
    kind = body_kind(request.headers.get("content-type"))
    body = await request.body()

    def work() -> pa.Table:
        return _predict(loaded, decode_spectra(body, kind, loaded.chain.targets), resample, fold_mean, interval,
                        interval_scale)

    table = work() if len(body) <= _INLINE_BYTES else await run_in_threadpool(work)
    state.metrics.predicted(bundle, table.num_rows // max(len(loaded.chain.targets), 1))
    absent = (table.schema.metadata or {}).get(DOMAIN_ABSENT_KEY)
    extra = f', "domain_absent": {json.dumps(None if absent is None else absent.decode())}'
    return table_response(table, encoding, wrap="predictions", extra=extra, filename=f"predictions-{bundle}")
