"""The audit log in a SQLite file (the default): WAL, and every commit synced to disk
(``synchronous = FULL``), so an entry the writer acknowledged survives a crash of the
process or of the machine; with ``[audit] sync = "normal"`` a crash of the process only."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from regbus.bus.audit.errors import AuditError

try:
    import fcntl
except ImportError:  # Windows: SQLite's own lock alone
    fcntl = None  # type: ignore[assignment]
from regbus.bus.audit.settings import MEMORY
from regbus.bus.audit.store import CHECKPOINTS, ENTRIES, HEAD, SUBJECTS, Store

# How long an append waits for another process's write lock before it gives up.
LOCK_TIMEOUT = 30.0
_FETCH = 1000


class SqliteStore(Store):
    driver_error = sqlite3.Error

    def __init__(self, path: str, *, sync: str = "full", **options: Any) -> None:
        super().__init__(**options)
        self.path = path
        self.sync = sync.upper()  # PRAGMA synchronous: FULL or NORMAL
        if self.sync not in ("FULL", "NORMAL"):
            raise ValueError(f"sync must be full or normal, got {sync!r}")
        self.location = path
        self._lock: int | None = None  # FILE.lock, while open for writing

    def _connect(self) -> sqlite3.Connection:
        memory = self.path in (MEMORY, ":memory:")
        target = ":memory:" if memory else self.path
        if not memory and not self._create and not Path(self.path).is_file():
            raise AuditError(
                f"there is no audit log at {self.path} ([audit] store; the default is"
                " regbus-audit.sqlite3 in $REGBUS_STATE_DIR or the working directory)"
            )
        if not memory and self._create:
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                # It holds IINs: its owner's only (SQLite gives its -wal and -shm the same).
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
            except OSError as exc:
                raise AuditError(
                    f"cannot create the audit log {self.path}: {exc.strerror}"
                ) from exc
        try:
            conn = sqlite3.connect(
                target, timeout=LOCK_TIMEOUT, isolation_level=None, check_same_thread=False
            )
            if not memory:
                _wal(conn)
            conn.execute(f"PRAGMA synchronous = {self.sync}")
        except sqlite3.Error as exc:
            raise AuditError(f"cannot open the audit log {self.path}: {exc}") from exc
        return conn

    def _schema(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {ENTRIES} (seq INTEGER PRIMARY KEY,"
            " time TEXT NOT NULL, client TEXT NOT NULL, operator TEXT NOT NULL,"
            " purpose TEXT NOT NULL, case_number TEXT NOT NULL, registry TEXT NOT NULL,"
            " operation TEXT NOT NULL, params TEXT NOT NULL, subjects TEXT NOT NULL,"
            " outcome TEXT NOT NULL, reason TEXT NOT NULL, request_id TEXT NOT NULL,"
            " prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {SUBJECTS} (subject TEXT NOT NULL,"
            " seq INTEGER NOT NULL, PRIMARY KEY (subject, seq)) WITHOUT ROWID",
            f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (number INTEGER PRIMARY KEY,"
            " last_seq INTEGER NOT NULL, last_hash TEXT NOT NULL, time TEXT NOT NULL,"
            " key_id TEXT NOT NULL, signature TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {HEAD} (id INTEGER PRIMARY KEY CHECK (id = 1),"
            " last_seq INTEGER NOT NULL, last_hash TEXT NOT NULL,"
            " checkpoint_number INTEGER NOT NULL, checkpoint_seq INTEGER NOT NULL,"
            " checkpoint_at REAL NOT NULL)",
        ]

    def _tables_exist(self) -> bool:
        with self._cursor() as cur:
            cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (HEAD,))
            return cur.fetchone() is not None

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Cursor]:
        with self._translating(), self._turn():
            cur = self.conn.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")  # the write lock, before the head is read
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()

    @contextlib.contextmanager
    def _turn(self) -> Iterator[None]:
        """This process's turn to write, among every process writing the file (``regbus
        serve --workers N``): an exclusive lock on ``FILE.lock``, which the kernel hands to
        the next waiter the moment it is released. SQLite's own lock is no queue: a writer
        that finds it taken sleeps and retries, up to 100 ms at a time, and under load the
        workers' calls wait on those sleeps."""
        if self.path in (MEMORY, ":memory:") or fcntl is None:
            yield
            return
        if self._lock is None:
            self._lock = os.open(self.path + ".lock", os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock, fcntl.LOCK_UN)

    def close(self) -> None:
        super().close()
        lock, self._lock = self._lock, None
        if lock is not None:
            os.close(lock)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        with self._translating():
            self.conn.execute("BEGIN")
            try:
                self.conn.execute(f"SELECT 1 FROM {HEAD} LIMIT 1").fetchall()  # starts the read
                yield
            finally:
                self.conn.execute("COMMIT")

    def _stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        cur = self.conn.cursor()
        cur.arraysize = _FETCH
        try:
            cur.execute(sql, tuple(args))
            while batch := cur.fetchmany():
                yield from batch
        finally:
            cur.close()


def _wal(conn: sqlite3.Connection) -> None:
    """Put the file in WAL mode (it stays so). Several processes opening a new file at once
    (``regbus serve --workers N``) may find it locked without SQLite waiting: try again."""
    deadline = time.monotonic() + LOCK_TIMEOUT
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL").fetchall()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(0.02)
