"""The ``[audit]`` section: where the log lives and how often it is signed.

    [audit]
    store = "postgresql://regbus@db.internal/regbus"   # default: a SQLite file, see below
    key_file = "/etc/regbus/audit.key"
    checkpoint_every = 1000
    checkpoint_seconds = 60.0

Without ``store`` the log is the SQLite file ``regbus-audit.sqlite3`` in
``$REGBUS_STATE_DIR``, or in the working directory when that is not set; without
``key_file`` the key is ``regbus-audit.key`` beside that file (for PostgreSQL, in the
same folder the SQLite file would be in).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATE_DIR_VARIABLE = "REGBUS_STATE_DIR"
DEFAULT_FILE = "regbus-audit.sqlite3"
DEFAULT_KEY = "regbus-audit.key"
MEMORY = "sqlite::memory:"  # for tests: a log that ends with the process
_POSTGRES = ("postgresql://", "postgres://")


@dataclass(frozen=True)
class AuditSettings:
    enabled: bool = True  # false only for development and benchmarks: nothing is recorded
    # "" (a SQLite file in $REGBUS_STATE_DIR or the working directory), a file path,
    # "sqlite:///abs/path.sqlite3", "sqlite:relative.sqlite3" or "postgresql://..."
    store: str = ""
    key_file: str = ""  # "" : regbus-audit.key beside the SQLite file
    checkpoint_every: int = 1000  # entries between signed checkpoints
    checkpoint_seconds: float = 60.0  # at most this long between one and the next
    # SQLite only. "full": a commit is on disk before its calls are answered (survives a
    # power loss); "normal": it is in the OS's hands (survives a crash of the bus, not of
    # the machine), about 100 µs less CPU per commit (docs/audit.md).
    sync: str = "full"

    def location(self, environ: Mapping[str, str] | None = None) -> str:
        """The store: ``postgresql://...``, ``sqlite::memory:``, or a SQLite file's path."""
        store = self.store
        if store.startswith(_POSTGRES) or store == MEMORY:
            return store
        if not store:
            return str(state_dir(environ) / DEFAULT_FILE)
        if store.startswith("sqlite://"):
            return store.removeprefix("sqlite://")
        return store.removeprefix("sqlite:")

    def is_postgres(self) -> bool:
        return self.store.startswith(_POSTGRES)

    def key_path(self, environ: Mapping[str, str] | None = None) -> Path:
        if self.key_file:
            return Path(self.key_file)
        location = self.location(environ)
        if self.is_postgres() or location == MEMORY:
            return state_dir(environ) / DEFAULT_KEY
        return Path(location).parent / DEFAULT_KEY


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get(STATE_DIR_VARIABLE) or ".")


_KEYS: dict[str, type[Any]] = {
    "enabled": bool,
    "store": str,
    "key_file": str,
    "checkpoint_every": int,
    "checkpoint_seconds": float,
    "sync": str,
}
SYNC_MODES = ("full", "normal")


def audit_value(key: str, value: Any) -> Any:
    """One ``[audit]`` value, checked; ``ValueError`` says what is wrong with it."""
    kind = _KEYS.get(key)
    if kind is None:
        raise ValueError(f"unknown key audit.{key} (known: {', '.join(sorted(_KEYS))})")
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ValueError(f"audit.{key} must be {kind.__name__}, got {value!r}")
    if key == "store" and "://" in value and not value.startswith(("sqlite:", *_POSTGRES)):
        raise ValueError(
            "audit.store must be empty (a SQLite file in $REGBUS_STATE_DIR or here), a"
            f" file path, sqlite:///path or a postgresql:// URL, got {value!r}"
        )
    if key == "sync" and value not in SYNC_MODES:
        raise ValueError(f"audit.sync must be one of {', '.join(SYNC_MODES)}, got {value!r}")
    if key == "checkpoint_every" and not 1 <= value <= 10_000_000:
        raise ValueError(f"audit.checkpoint_every must be 1 or more entries, got {value}")
    if key == "checkpoint_seconds" and not (math.isfinite(value) and 0.1 <= value <= 86400):
        raise ValueError(f"audit.checkpoint_seconds must be 0.1 to 86400 seconds, got {value}")
    return value


def audit_settings(table: Mapping[str, Any]) -> AuditSettings:
    """The ``[audit]`` table as settings; ``ValueError`` names the bad key."""
    return AuditSettings(**{key: audit_value(key, value) for key, value in table.items()})
