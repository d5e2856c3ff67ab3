"""The `nirdag serve` verb (registered on the `nirdag` app by nirdag.cli). FastAPI and uvicorn are imported when
the verb runs, never by `nirdag --help`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nirdag.serve.config import INSTALL_HINT, serve_config
from nirdag.serve.errors import ServeError


def serve(
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="Workspace to serve (read only): a folder or "
                                           "s3://bucket/prefix (options from the AWS_* environment).")],
    host: Annotated[str, typer.Option(help="Address to listen on; any but loopback needs --token-file.")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    bundle: Annotated[list[str] | None, typer.Option(
        "--bundle", metavar="NAME=PATH", help="A bundle to predict with at POST /predict/NAME (repeatable); "
                                               "verified and loaded once at start-up.")] = None,
    token_file: Annotated[Path | None, typer.Option(
        help="File holding the bearer token clients send ('Authorization: Bearer <token>'); required beyond "
             "loopback.")] = None,
    max_body_mb: Annotated[int, typer.Option(min=1, help="Largest request body in MiB.")] = 64,
) -> None:
    """Serve a workspace read-only: a REST API (OpenAPI at /docs), web pages at / and predictions from bundles.

    Needs the serve extra (FastAPI, uvicorn, prometheus-client): pip install 'nirdag[serve]'.
    """
    config = serve_config(workspace, host=host, port=port, bundles=bundle, token_file=token_file,
                          max_body_mb=max_body_mb)
    try:
        from nirdag.serve.server import run_server  # FastAPI + uvicorn: the optional serve extra
    except ImportError as exc:
        raise ServeError(f"nirdag serve needs FastAPI, uvicorn and prometheus-client ({exc.name} is missing): "
                         f"{INSTALL_HINT}") from None
    run_server(config)
