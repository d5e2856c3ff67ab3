"""What a running server holds: the workspace (read only), the bundles verified at start-up, the runs it opened
and the pictures it drew (runs are immutable once completed), and one lock around matplotlib."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from datafusion_engine import StoreError
from nirdag.api import RunResult
from nirdag.bundle import BundleError, LoadedBundle, read_bundle
from nirdag.serve.config import ServeConfig
from nirdag.serve.errors import Conflict, NotFound, ServeError
from nirdag.serve.metrics import ServeMetrics
from nirdag.workspace import Workspace


class _Lru:
    """A small thread-safe least-recently-used map."""

    def __init__(self, size: int):
        self._size, self._items, self._lock = size, OrderedDict(), threading.Lock()

    def get_or_make(self, key, make: Callable):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: two threads may make the same value once each, never a wrong one
        with self._lock:
            self._items[key] = value
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


@dataclass
class ServerState:
    """The server's workspace, bundles and caches; made once by :func:`open_state`."""

    config: ServeConfig
    workspace: Workspace
    bundles: dict[str, LoadedBundle]
    metrics: ServeMetrics = field(default_factory=ServeMetrics)
    figures: threading.Lock = field(default_factory=threading.Lock)  # matplotlib's rc context is process-global

    def __post_init__(self) -> None:
        self._runs = _Lru(self.config.runs_kept)
        self._pictures = _Lru(8 * self.config.runs_kept)

    def resolve(self, ref: str) -> str:
        """The run id ``ref`` names (a run id, a unique prefix, ``latest``); RunNotFound (404) otherwise."""
        return self.workspace.resolve(ref)

    def run(self, ref: str) -> RunResult:
        """The completed run ``ref`` names, rebuilt from the workspace once and kept."""
        run_id = self.resolve(ref)

        def rebuild() -> RunResult:
            try:
                return self.workspace.run(run_id)
            except StoreError as exc:
                raise Conflict(str(exc)) from None

        return self._runs.get_or_make(run_id, rebuild)

    def picture(self, key: tuple[str, ...], draw: Callable[[], bytes]) -> bytes:
        """The bytes of a drawn picture (a figure, the DAG, the report), drawn once per key under the figure
        lock."""
        def locked() -> bytes:
            with self.figures:
                return draw()

        return self._pictures.get_or_make(key, locked)

    def bundle(self, name: str) -> LoadedBundle:
        if name not in self.bundles:
            known = ", ".join(sorted(self.bundles)) or "none (start the server with --bundle NAME=PATH)"
            raise NotFound(f"no bundle {name!r}; bundles: {known}")
        return self.bundles[name]


def open_state(config: ServeConfig) -> ServerState:
    """The workspace checked (it must exist and hold tables) and every bundle read and verified, once."""
    workspace = Workspace(config.workspace)
    try:
        workspace.handle.require()
    except StoreError as exc:
        raise ServeError(f"-w {config.workspace}: {exc}") from None
    bundles = {}
    for name, path in config.bundles.items():
        try:
            bundles[name] = read_bundle(path)
        except BundleError as exc:
            raise ServeError(f"--bundle {name}={path}: {exc}") from None
    return ServerState(config=config, workspace=workspace, bundles=bundles)
