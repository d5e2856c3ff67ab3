"""What ``nirdag serve`` was asked to do, decoded once from its flags: the workspace, the address, the bundles by
name, the bearer token and the limits. Loads no web framework."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated

import msgspec

from nirdag.serve.errors import ServeError

INSTALL_HINT = "pip install 'nirdag[serve]'"
MIN_TOKEN_CHARS = 16
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

_Positive = Annotated[int, msgspec.Meta(ge=1)]
_Seconds = Annotated[float, msgspec.Meta(gt=0)]


class ServeConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The server's settings.

    ``bundles`` maps a name (the ``{bundle}`` of ``POST /predict/{bundle}``) to a bundle file; ``token`` is the
    bearer token every endpoint but ``/health`` asks for (None: no token, allowed on loopback only).
    """

    workspace: str
    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=0, le=65535)] = 8000
    bundles: dict[str, str] = msgspec.field(default_factory=dict)
    token: str | None = None
    max_body_bytes: _Positive = 64 << 20
    sql_timeout: _Seconds = 30.0
    sql_max_rows: _Positive = 100_000
    max_chains_page: _Positive = 1_000
    runs_kept: _Positive = 8


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine: ``localhost`` or an address of 127.0.0.0/8 or ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def parse_bundles(pairs: list[str]) -> dict[str, str]:
    """``NAME=PATH`` pairs as a mapping; a bad pair, a repeated name or a missing file is a ServeError."""
    bundles: dict[str, str] = {}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not _NAME.match(name) or not path:
            raise ServeError(f"--bundle {pair!r}: give NAME=PATH, NAME of letters, digits, '_', '.', '-' "
                             "(at most 64)")
        if name in bundles:
            raise ServeError(f"--bundle {name!r} given twice")
        if not Path(path).is_file():
            raise ServeError(f"--bundle {name}={path}: no such file")
        bundles[name] = path
    return bundles


def read_token(path: Path | None) -> str | None:
    """The bearer token held by ``path`` (its text without surrounding whitespace), or None without a file."""
    if path is None:
        return None
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ServeError(f"--token-file {path}: cannot read it ({exc})") from None
    if len(token) < MIN_TOKEN_CHARS or any(ch.isspace() for ch in token):
        raise ServeError(f"--token-file {path}: the token must be one word of at least {MIN_TOKEN_CHARS} "
                         "characters (e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return token


def serve_config(workspace: Path, *, host: str = "127.0.0.1", port: int = 8000, bundles: list[str] | None = None,
                 token_file: Path | None = None, max_body_mb: int = 64) -> ServeConfig:
    """The settings of the flags, checked: a non-loopback ``host`` without a token is refused."""
    token = read_token(token_file)
    if token is None and not is_loopback(host):
        raise ServeError(f"--host {host} listens beyond this machine: give --token-file FILE (a bearer token "
                         "clients send as 'Authorization: Bearer <token>'), or keep the default 127.0.0.1")
    try:
        return msgspec.convert({"workspace": str(workspace), "host": host, "port": port,
                                "bundles": parse_bundles(bundles or []), "token": token,
                                "max_body_bytes": max_body_mb << 20}, ServeConfig)
    except msgspec.ValidationError as exc:
        raise ServeError(f"bad server setting: {exc}") from None
