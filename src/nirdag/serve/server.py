"""Run the app under uvicorn: the flags' settings, BLAS pinned to one thread for the process (concurrent
predictions then never race to set and restore the limit), one line saying where it listens."""

from __future__ import annotations

import sys

import uvicorn
from threadpoolctl import threadpool_limits

from nirdag.serve.app import create_app
from nirdag.serve.config import ServeConfig, is_loopback


def run_server(config: ServeConfig) -> None:
    """Serve ``config`` until interrupted (Ctrl-C or SIGTERM end it cleanly)."""
    app = create_app(config)
    threadpool_limits(limits=1)  # the process's BLAS stays on one thread, as every prediction asks
    state = app.state.nirdag
    guarded = "bearer token required" if config.token else "no token (loopback only)"
    where = config.host if is_loopback(config.host) else f"{config.host} (beyond this machine)"
    sys.stderr.write(f"nirdag serve: workspace {state.workspace.path}, {len(state.bundles)} bundle(s) "
                     f"[{', '.join(sorted(state.bundles))}], {guarded}; listening on http://{where}:{config.port}\n")
    sys.stderr.flush()
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning", access_log=False,
                server_header=False)
