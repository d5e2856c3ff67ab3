"""Property tests of `nirdag serve` over its own OpenAPI schema (schemathesis): for every operation, requests
generated from the schema, valid and not, never get a 5xx, get only the statuses, media types and JSON shapes the
schema documents, and every 4xx carries a one-line reason.

The example count is small and the generation derandomised (the same requests on every run); a long run:
``NIRDAG_FUZZ_EXAMPLES=500 .venv/bin/pytest tests/integration/test_serve_schema.py -q -p no:cacheprovider``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from tests.integration.conftest import require_serve_extra

require_serve_extra()
if os.environ.get("CI") != "true":
    pytest.importorskip("schemathesis")

import schemathesis  # noqa: E402  (a dev dependency: under CI=true its absence fails)
import schemathesis.checks as checks  # noqa: E402
from schemathesis.generation.modes import GenerationMode  # noqa: E402

from nirdag.serve.app import create_app  # noqa: E402
from nirdag.serve.config import serve_config  # noqa: E402

EXAMPLES = int(os.environ.get("NIRDAG_FUZZ_EXAMPLES", "15"))


@pytest.fixture(scope="module")
def api_schema(tecator_run, tecator_bundle):
    app = create_app(serve_config(Path(tecator_run.workspace), bundles=[f"tecator={tecator_bundle}"]))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def _check(case) -> None:
    response = case.call()
    # No 5xx, every status documented, and each answer of the media type and JSON schema its operation declares.
    case.validate_response(response, checks=[checks.not_a_server_error, checks.status_code_conformance,
                                             checks.content_type_conformance, checks.response_schema_conformance])
    assert response.status_code < 500, (case.method, case.formatted_path, response.status_code, response.text[:300])
    media = response.headers.get("content-type", [""])[0]  # schemathesis lists each header's values
    if 400 <= response.status_code < 500 and media.startswith("application/json"):
        detail = response.json()["detail"]
        assert isinstance(detail, str) and "\n" not in detail, detail


def _variants(operation, run_id: str) -> list[dict]:
    """Strategies' fixed parts: nothing, then the real run and bundle in the path (random ids alone only reach
    404s)."""
    names = {p.name for p in operation.path_parameters}
    real = {k: v for k, v in (("run", run_id), ("bundle", "tecator")) if k in names}
    return [{}, {"path_parameters": real}] if real else [{}]


def test_no_generated_request_gets_a_server_error(api_schema, tecator_run):
    """Each operation's strategies (valid and invalid requests; schemathesis' own pytest plugin does not load its
    schema from a fixture under pytest 9) driven by hypothesis here."""
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:
        for mode in GenerationMode:
            for fixed in _variants(operation, tecator_run.run_id):
                @given(case=operation.as_strategy(mode, **fixed))
                @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
                def check(case) -> None:
                    _check(case)

                try:
                    check()
                except Unsatisfiable:  # an operation with nothing to get wrong (GET /health) has no negative case
                    assert mode is GenerationMode.NEGATIVE, operation.label
