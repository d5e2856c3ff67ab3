"""Where a workspace's (or a bundle's) bytes live: a local folder or an S3-compatible object store, behind one API.

:func:`open_storage` turns a location (a folder, ``file://...`` or ``s3://bucket/prefix``) into a :class:`Storage`.
Keys are ``/``-separated paths relative to the location. ``LocalStorage`` keeps the behaviour of plain files (a
temporary file renamed into place, fsync); ``ObjectStorage`` speaks to the store through obstore, the Rust
``object_store`` client deltalake and DataFusion use too, with the same options. Credentials are held in memory
only: ``str()``/``repr()`` of a storage, and every message it raises, name the location, never an option value.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from nirs_core.errors import NirdagError
from nirs_core.files import write_atomic

# The option keys a workspace URI accepts (from the environment or ``--storage-option``): a closed set.
CREDENTIAL_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
OPTION_KEYS = (*CREDENTIAL_KEYS, "AWS_REGION", "AWS_ENDPOINT_URL", "AWS_ALLOW_HTTP", "AWS_SKIP_SIGNATURE",
               "AWS_S3_LOCKING_PROVIDER", "AWS_CONDITIONAL_PUT", "TIMEOUT", "CONNECT_TIMEOUT", "MAX_RETRIES",
               "RETRY_TIMEOUT")
# Bounded time for every request: an unreachable endpoint fails within seconds, not the client's minutes.
DEFAULT_CLIENT = {"TIMEOUT": "30s", "CONNECT_TIMEOUT": "5s", "MAX_RETRIES": "2", "RETRY_TIMEOUT": "10s"}
_REFUSED = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403 Forbidden")
_ENV_ALIASES = {"AWS_REGION": ("AWS_REGION", "AWS_DEFAULT_REGION")}


class StorageError(NirdagError):
    """A location that cannot be used: bad URI, unreachable endpoint, missing bucket or credentials, refused
    request. The message is one line naming the location."""


class StorageNotFound(StorageError):
    """A key that is not stored."""


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    modified: float  # POSIX seconds


def _one_line(exc: BaseException, limit: int = 240) -> str:
    return " ".join(str(exc).split())[:limit]


def is_object_uri(location: str | Path) -> bool:
    """True for ``s3://...`` (a store), False for a folder or ``file://`` URI."""
    return isinstance(location, str) and "://" in location and not location.startswith("file://")


def parse_options(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``KEY=VALUE`` strings (``--storage-option``) as a dict; StorageError for a malformed pair or an unknown key."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise StorageError(f"--storage-option {pair!r}: expected KEY=VALUE")
        options[_known(key)] = value
    return options


def _known(key: str) -> str:
    upper = key.strip().upper()
    if upper not in OPTION_KEYS:
        raise StorageError(f"unknown storage option {key!r}; known: {', '.join(OPTION_KEYS)}")
    return upper


class Storage:
    """The operations nirdag needs of a location. ``location`` is what messages show (no secrets)."""

    location: str
    is_local: bool

    def __str__(self) -> str:
        return self.location

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"

    def url(self, key: str) -> str:
        """The address deltalake and DataFusion are given for ``key``."""
        raise NotImplementedError

    def delta_options(self) -> dict[str, str] | None:
        """deltalake's ``storage_options`` (None for a local folder)."""
        return None

    def get(self, key: str) -> bytes:
        raise NotImplementedError

    def put(self, key: str, data: bytes, *, fsync: bool = True, temp_prefix: str = ".tmp-") -> None:
        """Store ``data`` atomically: a reader sees the old bytes or the new ones, never half."""
        raise NotImplementedError

    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Store ``data`` only if nothing is stored at ``key``; False when something was."""
        raise NotImplementedError

    def exists(self, key: str) -> bool:
        raise NotImplementedError

    def size(self, key: str) -> int:
        """The size in bytes of ``key`` (StorageNotFound when absent)."""
        raise NotImplementedError

    def list(self, prefix: str) -> Iterator[StoredObject]:
        """Every object under the folder ``prefix`` (recursively)."""
        raise NotImplementedError

    def has_prefix(self, prefix: str) -> bool:
        """True when at least one object is stored under the folder ``prefix``."""
        return next(iter(self.list(prefix)), None) is not None

    def delete(self, key: str) -> bool:
        raise NotImplementedError

    def delete_prefix(self, prefix: str) -> None:
        for item in list(self.list(prefix)):
            self.delete(item.key)

    def touch(self, key: str) -> None:
        """Record a use of ``key`` (local: its mtime; an object's time cannot change: nothing)."""

    def check(self) -> None:
        """Refuse, with one line, a location that cannot be reached (a folder: nothing to check here)."""


class LocalStorage(Storage):
    """A folder: files written through a temporary file and a rename (:func:`nirs_core.files.write_atomic`)."""

    is_local = True

    def __init__(self, root: str | Path):
        text = str(root)
        if text.startswith("file://"):
            text = urlparse(text).path
        self.root = Path(text).expanduser().resolve()
        self.location = str(self.root)

    def path(self, key: str) -> Path:
        return self.root / key if key else self.root

    def url(self, key: str) -> str:
        return str(self.path(key))

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise StorageNotFound(f"{self.path(key)} does not exist") from None

    def put(self, key: str, data: bytes, *, fsync: bool = True, temp_prefix: str = ".tmp-") -> None:
        write_atomic(self.path(key), data, prefix=temp_prefix, fsync=fsync)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = write_atomic(path.with_name(f".{path.name}.{os.getpid()}.new"), data, prefix=f".{path.name}-")
        try:
            os.link(tmp, path)  # fails when path exists: an atomic put-if-absent on POSIX
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        return True

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except (FileNotFoundError, NotADirectoryError):
            raise StorageNotFound(f"{self.path(key)} does not exist") from None

    def list(self, prefix: str) -> Iterator[StoredObject]:
        base = self.path(prefix)
        if not base.is_dir():
            return
        for folder, _dirs, files in os.walk(base):
            for name in files:
                full = Path(folder) / name
                try:
                    info = full.stat()
                except FileNotFoundError:  # removed meanwhile by another process
                    continue
                yield StoredObject(full.relative_to(self.root).as_posix(), info.st_size, info.st_mtime)

    def delete(self, key: str) -> bool:
        path = self.path(key)
        if not path.is_file():
            return False
        path.unlink(missing_ok=True)
        return True

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self.path(prefix), ignore_errors=True)

    def touch(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):  # removed meanwhile: nothing to record
            os.utime(self.path(key))


def resolve_options(explicit: Mapping[str, str] | None = None,
                    environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The options of an object store: the ``AWS_*`` environment variables overlaid by ``explicit``, with the
    bounded-time client defaults for what neither sets."""
    env = os.environ if environ is None else environ
    options = dict(DEFAULT_CLIENT)
    for key in OPTION_KEYS:
        for name in _ENV_ALIASES.get(key, (key,)):
            if env.get(name):
                options[key] = env[name]
                break
    options.update({_known(k): v for k, v in (explicit or {}).items()})
    return options


def is_true(value: str | None) -> bool:
    """A boolean storage option's value (``true``, ``1``, ``yes``, any case)."""
    return str(value).strip().lower() in ("1", "true", "yes")


class ObjectStorage(Storage):
    """An S3-compatible bucket and prefix, through obstore (imported when the first such URI is opened)."""

    is_local = False

    def __init__(self, uri: str, options: Mapping[str, str] | None = None):
        parsed = urlparse(uri)
        if parsed.scheme != "s3":
            raise StorageError(f"workspace URI {uri!r}: scheme {parsed.scheme!r} is not supported; give a folder, "
                               "file:///path or s3://bucket/prefix")
        bucket, prefix = parsed.netloc, parsed.path.strip("/")
        if len(bucket) < 3:
            raise StorageError(f"workspace URI {uri!r}: expected s3://bucket/prefix with a bucket name of 3+ "
                               "characters")
        self.bucket, self.prefix = bucket, prefix
        self.location = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
        self._options = resolve_options(options)
        anonymous = is_true(self._options.get("AWS_SKIP_SIGNATURE"))
        if not anonymous and not (self._options.get("AWS_ACCESS_KEY_ID") and
                                  self._options.get("AWS_SECRET_ACCESS_KEY")):
            raise StorageError(f"{self.location}: no credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                               "(or --storage-option KEY=VALUE; AWS_SKIP_SIGNATURE=true for a public bucket)")
        self._store = self._client()

    def __getstate__(self) -> dict[str, Any]:  # the obstore client is rebuilt in the process it reaches
        return {k: v for k, v in self.__dict__.items() if k != "_store"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._store = self._client()

    @property
    def options(self) -> dict[str, str]:
        """A copy of the resolved options (they hold the credentials: pass them to clients, never write them)."""
        return dict(self._options)

    def _client(self) -> Any:
        from obstore.store import S3Store

        o = self._options
        config = {"access_key_id": o.get("AWS_ACCESS_KEY_ID"), "secret_access_key": o.get("AWS_SECRET_ACCESS_KEY"),
                  "session_token": o.get("AWS_SESSION_TOKEN"), "region": o.get("AWS_REGION", "us-east-1"),
                  "endpoint": o.get("AWS_ENDPOINT_URL"),
                  "skip_signature": is_true(o.get("AWS_SKIP_SIGNATURE")) or None}
        client = {"timeout": o["TIMEOUT"], "connect_timeout": o["CONNECT_TIMEOUT"],
                  "allow_http": is_true(o.get("AWS_ALLOW_HTTP"))}
        retry = {"max_retries": int(o["MAX_RETRIES"]), "retry_timeout": _seconds(o["RETRY_TIMEOUT"])}
        try:
            return S3Store(self.bucket, prefix=self.prefix or None,
                           config={k: v for k, v in config.items() if v is not None},
                           client_options=client, retry_config=retry)
        except Exception as exc:  # obstore raises its own errors for bad configuration values
            raise StorageError(f"{self.location}: bad storage options ({_one_line(exc)})") from None

    def url(self, key: str) -> str:
        return f"{self.location}/{key}" if key else self.location

    def delta_options(self) -> dict[str, str]:
        o = self._options
        keys = [k for k in OPTION_KEYS if k.startswith("AWS_") and o.get(k)]
        options = {k: o[k] for k in keys}
        options.setdefault("AWS_REGION", "us-east-1")
        options.update({"timeout": o["TIMEOUT"], "connect_timeout": o["CONNECT_TIMEOUT"],
                        "max_retries": o["MAX_RETRIES"], "retry_timeout": o["RETRY_TIMEOUT"]})
        return options

    def _error(self, what: str, key: str, exc: BaseException) -> StorageError:
        full, text = " ".join(str(exc).split()), _one_line(exc)
        if "NoSuchBucket" in full or (what == "listing" and "404 Not Found" in full):
            return StorageError(f"{self.location}: bucket {self.bucket!r} does not exist (create it first)")
        if "error sending request" in full or "timed out" in full.lower() or "connect" in full.lower():
            return StorageError(f"{self.location}: cannot reach the object store "
                                f"({self._options.get('AWS_ENDPOINT_URL') or 'AWS'}): {what} {key!r} failed")
        if any(code in full for code in _REFUSED):
            return StorageError(f"{self.location}: the credentials were refused ({what} {key!r})")
        return StorageError(f"{self.location}: {what} {key!r} failed: {text}")

    def _call(self, what: str, key: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self._store, *args, **kwargs)
        except FileNotFoundError:
            raise StorageNotFound(f"{self.url(key)} does not exist") from None
        except Exception as exc:  # obstore's errors (and builtins) become one line naming the location
            raise self._error(what, key, exc) from None

    def get(self, key: str) -> bytes:
        import obstore

        return bytes(self._call("reading", key, lambda s: obstore.get(s, key).bytes()))

    def put(self, key: str, data: bytes, *, fsync: bool = True, temp_prefix: str = ".tmp-") -> None:
        import obstore

        self._call("writing", key, obstore.put, key, data)  # one PUT: the object appears whole or not at all

    def put_if_absent(self, key: str, data: bytes) -> bool:
        import obstore
        from obstore.exceptions import AlreadyExistsError, PreconditionError

        try:
            obstore.put(self._store, key, data, mode="create")
        except (AlreadyExistsError, PreconditionError):
            return False
        except Exception as exc:  # obstore's other errors: one line naming the location
            raise self._error("writing", key, exc) from None
        return True

    def exists(self, key: str) -> bool:
        import obstore

        try:
            self._call("reading", key, obstore.head, key)
        except StorageNotFound:
            return False
        return True

    def size(self, key: str) -> int:
        import obstore

        return int(self._call("reading", key, obstore.head, key)["size"])

    def list(self, prefix: str) -> Iterator[StoredObject]:
        import obstore

        folder = prefix.rstrip("/") + "/" if prefix else None
        pages = self._call("listing", prefix, lambda s: list(obstore.list(s, folder)))
        for page in pages:
            for meta in page:
                modified = meta["last_modified"]
                yield StoredObject(meta["path"], int(meta["size"]), modified.timestamp())

    def delete(self, key: str) -> bool:
        import obstore

        if not self.exists(key):
            return False
        self._call("deleting", key, obstore.delete, key)
        return True

    def check(self) -> None:
        """One listing request, bounded by the client's timeouts: an unreachable endpoint, a missing bucket or
        refused credentials fail here (a store that refuses writes fails at the run's first write, before any
        result is kept)."""
        import obstore

        self._call("listing", "", lambda s: obstore.list_with_delimiter(s, None))


def _seconds(text: str) -> dt.timedelta:
    value = text.strip().lower()
    try:
        if value.endswith("ms"):
            return dt.timedelta(milliseconds=float(value[:-2]))
        return dt.timedelta(seconds=float(value.rstrip("s")))
    except ValueError:
        raise StorageError(f"a duration storage option is like '10s' or '500ms', got {text!r}") from None


def open_storage(location: str | Path | Storage, options: Mapping[str, str] | None = None) -> Storage:
    """The storage of ``location``: a folder (a path or ``file://``), or ``s3://bucket/prefix``."""
    if isinstance(location, Storage):
        return location
    if is_object_uri(location):
        return ObjectStorage(str(location), options)
    if options:
        raise StorageError(f"{location}: storage options apply to s3:// locations only")
    return LocalStorage(location)


def split_location(location: str | Path) -> tuple[str, str]:
    """A file's location as (its folder's location, its name): ``s3://b/p/m.nirdag`` -> (``s3://b/p``, ``m.nirdag``)."""
    text = str(location)
    if is_object_uri(text):
        head, _, name = text.rstrip("/").rpartition("/")
        if "://" not in head or head.endswith(":/"):
            raise StorageError(f"{text}: expected s3://bucket/[prefix/]name")
        return head, name
    path = Path(text.removeprefix("file://")).expanduser()
    return str(path.parent), path.name


def read_file(location: str | Path, options: Mapping[str, str] | None = None, *,
              max_bytes: int | None = None) -> bytes:
    """The bytes of one file: a path or ``s3://bucket/key``; StorageError (StorageNotFound when absent) when it
    cannot be read or is larger than ``max_bytes`` (checked before it is read)."""
    folder, name = split_location(location)
    storage = open_storage(folder, options)
    size = storage.size(name)
    if max_bytes is not None and size > max_bytes:
        raise StorageError(f"{storage.url(name)} is {size} bytes, over the limit {max_bytes}")
    return storage.get(name)


def write_file(location: str | Path, data: bytes, options: Mapping[str, str] | None = None) -> str:
    """Write one file atomically (a temp file + rename, or one PUT); returns where it was written."""
    folder, name = split_location(location)
    storage = open_storage(folder, options)
    storage.put(name, data, temp_prefix=f".{name}-")
    return storage.url(name)
