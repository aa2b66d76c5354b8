"""Where the chain is kept: four SQL tables, the same in SQLite and PostgreSQL.

    regbus_audit              one row per entry: seq, its fields, prev_hash, hash
    regbus_audit_subjects     (subject, seq): the entries about each IIN or BIN, so that
                              ``regbus audit subject`` need not read every entry (verify
                              checks it against the entries' own ``subjects``)
    regbus_audit_checkpoints  number, last_seq, last_hash, time, key_id, signature
    regbus_audit_head         one row: the last entry's seq and hash, and the last
                              checkpoint's number, seq and time

An append takes the database's write lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL
``SELECT ... FOR UPDATE`` of the head) and reads the head under it, so every process and
replica writing to one database extends the same chain. A store is used from one thread
at a time (``AuditLog`` keeps one thread for it): nothing here runs on an event loop.

    store = open_store(settings)         # SqliteStore or PostgresStore, not yet connected
    store.open()
    first_seq = store.append(entries, time.time())
"""

from __future__ import annotations

import abc
import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from regbus.bus.audit.entry import FIELDS, GENESIS, Entry, iso_time, seal
from regbus.bus.audit.errors import AuditError
from regbus.bus.audit.settings import AuditSettings
from regbus.bus.audit.signing import Checkpoint, Signer

log = logging.getLogger("regbus.bus.audit")

ENTRIES = "regbus_audit"
SUBJECTS = "regbus_audit_subjects"
CHECKPOINTS = "regbus_audit_checkpoints"
HEAD = "regbus_audit_head"
COLUMNS = ("seq", *FIELDS, "prev_hash", "hash")
CHECKPOINT_COLUMNS = ("number", "last_seq", "last_hash", "time", "key_id", "signature")
HEAD_COLUMNS = ("last_seq", "last_hash", "checkpoint_number", "checkpoint_seq", "checkpoint_at")


@dataclass(frozen=True)
class Row:
    """One stored entry: its fields as text, ``params`` and ``subjects`` as JSON text."""

    seq: int
    fields: dict[str, str]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Head:
    """Where the chain ends, and where it was last signed."""

    last_seq: int
    last_hash: str
    checkpoint_number: int
    checkpoint_seq: int
    checkpoint_at: float  # wall-clock seconds


class Store(abc.ABC):
    """One database holding the chain; ``signer`` signs its checkpoints."""

    placeholder = "?"
    location = ""  # for messages: a file, or a URL without its password
    driver_error: type[Exception] = Exception  # what the driver raises, said as AuditError

    def __init__(self, *, checkpoint_every: int = 1000, checkpoint_seconds: float = 60.0) -> None:
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds
        self.signer: Signer | None = None
        # Told of every checkpoint once it is committed (from the store's thread).
        self.on_checkpoint: Callable[[Checkpoint], None] | None = None
        self._conn: Any = None
        self._create = True  # False once attached for reading: a missing log is an error

    # What each database does its own way ----------------------------------------------------

    @abc.abstractmethod
    def _connect(self) -> Any:
        """A DB-API connection in autocommit mode (transactions are begun explicitly)."""

    @abc.abstractmethod
    def _schema(self) -> list[str]:
        """``CREATE TABLE IF NOT EXISTS`` statements."""

    @abc.abstractmethod
    def _writing(self) -> contextlib.AbstractContextManager[Any]:
        """A write transaction (SQLite's takes the write lock; PostgreSQL's, the head's row
        lock when ``_head`` reads it): yields a cursor."""

    @abc.abstractmethod
    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        """A read transaction: everything read inside sees one moment of the log."""

    @abc.abstractmethod
    def _stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows of a query, fetched a batch at a time (inside ``snapshot``)."""

    @abc.abstractmethod
    def _tables_exist(self) -> bool:
        """Whether the log's tables are there."""

    def _lost(self, exc: BaseException) -> bool:
        """Whether ``exc`` left the connection unusable (the next call reconnects)."""
        return False

    # Shared ---------------------------------------------------------------------------------

    @property
    def conn(self) -> Any:
        if self._conn is None:
            self._conn = self._connect()
        return self._conn

    def sql(self, text: str) -> str:
        return text if self.placeholder == "?" else text.replace("?", self.placeholder)

    def open(self) -> None:
        """Connect and create the tables where they are missing."""
        with self._writing_schema() as cur:
            for statement in self._schema():
                cur.execute(statement)
            cur.execute(self.sql(f"SELECT {', '.join(HEAD_COLUMNS)} FROM {HEAD} WHERE id = 1"))
            if cur.fetchone() is None:
                self._new_head(cur)

    def attach(self) -> None:
        """Connect to an existing log to read it; ``AuditError`` when there is none."""
        self._create = False
        if not self._tables_exist():
            raise AuditError(
                f"{self.location} holds no audit log (no table {HEAD}); is this the store"
                " the bus writes to ([audit] store)?"
            )

    def _writing_schema(self) -> contextlib.AbstractContextManager[Any]:
        """The transaction the tables are created in."""
        return self._writing()

    def _new_head(self, cur: Any) -> None:
        """The head of a new log, or of one whose head row is gone (rebuilt from the rest)."""
        cur.execute(f"SELECT seq, hash FROM {ENTRIES} ORDER BY seq DESC LIMIT 1")
        last = cur.fetchone()
        cur.execute(
            f"SELECT number, last_seq, time FROM {CHECKPOINTS} ORDER BY number DESC LIMIT 1"
        )
        checkpoint = cur.fetchone()
        if last is not None:
            log.error(
                "audit log %s has entries but no head row; rebuilt it from entry %d"
                " (regbus audit verify reports the log as it is)",
                self.location,
                last[0],
            )
        seq, digest = last if last is not None else (0, GENESIS)
        number, cp_seq, at = checkpoint if checkpoint is not None else (0, 0, None)
        when = _seconds(at) if at is not None else _now()
        cur.execute(
            self.sql(
                f"INSERT INTO {HEAD} (id, {', '.join(HEAD_COLUMNS)}) VALUES (1, ?, ?, ?, ?, ?)"
            ),
            (seq, digest, number, cp_seq, when),
        )

    def append(self, entries: Sequence[Entry], now: float) -> int:
        """Write ``entries`` after the last one, in one transaction; the first one's seq."""
        try:
            with self._writing() as cur:
                head = self._head(cur, lock=True)
                seq, prev = head.last_seq, head.last_hash
                first = seq + 1
                rows = []
                subjects = []
                for entry in entries:
                    sealed = seal(entry, prev)
                    seq += 1
                    rows.append((seq, *sealed.values))
                    subjects += [(subject, seq) for subject in sealed.subjects]
                    prev = sealed.hash
                self._insert(cur, rows, subjects)
                checkpoint = self._advance(cur, head, seq, prev, now, force=False)
        except BaseException as exc:
            self._drop_if_lost(exc)
            raise
        self._signed(checkpoint)
        return first

    def _insert(
        self, cur: Any, rows: list[tuple[Any, ...]], subjects: list[tuple[str, int]]
    ) -> None:
        cur.executemany(self._insert_entry, rows)
        if subjects:
            cur.executemany(self._insert_subject, subjects)

    def checkpoint(self, now: float, *, force: bool = False) -> Checkpoint | None:
        """Sign the chain up to its last entry, if anything came after the last checkpoint
        and (unless ``force``) it is ``checkpoint_seconds`` old."""
        try:
            with self._writing() as cur:
                head = self._head(cur, lock=True)
                checkpoint = self._advance(
                    cur, head, head.last_seq, head.last_hash, now, force=force
                )
        except BaseException as exc:
            self._drop_if_lost(exc)
            raise
        self._signed(checkpoint)
        return checkpoint

    def _signed(self, checkpoint: Checkpoint | None) -> None:
        if checkpoint is not None and self.on_checkpoint is not None:
            self.on_checkpoint(checkpoint)

    def _advance(
        self, cur: Any, head: Head, seq: int, digest: str, now: float, *, force: bool
    ) -> Checkpoint | None:
        """Move the head to (seq, digest), with a checkpoint when one is due."""
        checkpoint = None
        unsigned = seq - head.checkpoint_seq
        due = (
            unsigned >= self.checkpoint_every
            or now - head.checkpoint_at >= self.checkpoint_seconds
            or force
        )
        if self.signer is not None and unsigned > 0 and due:
            checkpoint = Checkpoint(
                head.checkpoint_number + 1, seq, digest, iso_time(now), "", ""
            ).signed(self.signer)
            columns = ", ".join(CHECKPOINT_COLUMNS)
            cur.execute(
                self.sql(f"INSERT INTO {CHECKPOINTS} ({columns}) VALUES (?, ?, ?, ?, ?, ?)"),
                (
                    checkpoint.number,
                    checkpoint.last_seq,
                    checkpoint.last_hash,
                    checkpoint.time,
                    checkpoint.key_id,
                    checkpoint.signature,
                ),
            )
            head = Head(seq, digest, checkpoint.number, seq, now)
        else:
            head = Head(
                seq, digest, head.checkpoint_number, head.checkpoint_seq, head.checkpoint_at
            )
        if seq or checkpoint is not None:
            cur.execute(
                self.sql(
                    f"UPDATE {HEAD} SET last_seq = ?, last_hash = ?, checkpoint_number = ?,"
                    " checkpoint_seq = ?, checkpoint_at = ? WHERE id = 1"
                ),
                (
                    head.last_seq,
                    head.last_hash,
                    head.checkpoint_number,
                    head.checkpoint_seq,
                    head.checkpoint_at,
                ),
            )
        return checkpoint

    def _head(self, cur: Any, *, lock: bool = False) -> Head:
        cur.execute(self._select_head + (self._lock_clause if lock else ""))
        found = cur.fetchone()
        if found is None:
            raise LookupError(f"audit log {self.location} has no head row")
        return Head(int(found[0]), str(found[1]), int(found[2]), int(found[3]), float(found[4]))

    _lock_clause = ""

    def _drop_if_lost(self, exc: BaseException) -> None:
        if self._conn is not None and self._lost(exc):
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    @property
    def _insert_entry(self) -> str:
        marks = ", ".join("?" for _ in COLUMNS)
        return self.sql(f"INSERT INTO {ENTRIES} ({', '.join(COLUMNS)}) VALUES ({marks})")

    @property
    def _insert_subject(self) -> str:
        return self.sql(f"INSERT INTO {SUBJECTS} (subject, seq) VALUES (?, ?)")

    @property
    def _select_head(self) -> str:
        return f"SELECT {', '.join(HEAD_COLUMNS)} FROM {HEAD} WHERE id = 1"

    # Reading (verify, subject lookups) ------------------------------------------------------

    def head(self) -> Head | None:
        with self._cursor() as cur:
            try:
                return self._head(cur)
            except LookupError:
                return None

    def rows(self) -> Iterator[Row]:
        """Every entry, by seq (inside ``snapshot`` for a consistent view)."""
        with self._translating():
            query = f"SELECT {', '.join(COLUMNS)} FROM {ENTRIES} ORDER BY seq"
            for found in self._stream(query):
                yield _read_row(found)

    def subject_index(self) -> Iterator[tuple[int, str]]:
        """Every (seq, subject) of the subject index, by seq then subject."""
        with self._translating():
            query = f"SELECT seq, subject FROM {SUBJECTS} ORDER BY seq, subject"
            for seq, subject in self._stream(query):
                yield int(seq), str(subject)

    def checkpoints(self) -> list[Checkpoint]:
        columns = ", ".join(CHECKPOINT_COLUMNS)
        with self._cursor() as cur:
            cur.execute(f"SELECT {columns} FROM {CHECKPOINTS} ORDER BY number")
            return [
                Checkpoint(int(n), int(s), str(h), str(t), str(k), str(sig))
                for n, s, h, t, k, sig in cur.fetchall()
            ]

    def seq_of(self, digest: str) -> int | None:
        """The seq of the entry whose hash is ``digest`` (a full scan: for diagnosis)."""
        with self._cursor() as cur:
            cur.execute(self.sql(f"SELECT seq FROM {ENTRIES} WHERE hash = ? LIMIT 1"), (digest,))
            found = cur.fetchone()
            return None if found is None else int(found[0])

    def about(self, subject: str) -> list[Row]:
        """Every entry the subject index lists for ``subject``, by seq."""
        columns = ", ".join(f"e.{c}" for c in COLUMNS)
        with self._cursor() as cur:
            cur.execute(
                self.sql(
                    f"SELECT {columns} FROM {SUBJECTS} s JOIN {ENTRIES} e ON e.seq = s.seq"
                    " WHERE s.subject = ? ORDER BY e.seq"
                ),
                (subject,),
            )
            return [_read_row(found) for found in cur.fetchall()]

    @contextlib.contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self._translating():
            cur = self.conn.cursor()
            try:
                yield cur
            finally:
                cur.close()

    @contextlib.contextmanager
    def _translating(self) -> Iterator[None]:
        """The driver's errors as ``AuditError``, naming the log."""
        try:
            yield
        except self.driver_error as exc:
            raise AuditError(f"audit log {self.location}: {exc}") from exc

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _read_row(found: Sequence[Any]) -> Row:
    values = dict(zip(COLUMNS, found, strict=True))
    fields = {name: values[name] for name in FIELDS}
    return Row(int(values["seq"]), fields, values["prev_hash"], values["hash"])


def _seconds(iso: str) -> float:
    try:
        return datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return _now()


def _now() -> float:
    return time.time()


def open_store(settings: AuditSettings, environ: Mapping[str, str] | None = None) -> Store:
    """The store ``settings`` name, not connected yet (``Store.open`` connects)."""
    location = settings.location(environ)
    options = {
        "checkpoint_every": settings.checkpoint_every,
        "checkpoint_seconds": settings.checkpoint_seconds,
    }
    if settings.is_postgres():
        from regbus.bus.audit.postgres import PostgresStore

        return PostgresStore(location, **options)
    from regbus.bus.audit.sqlite import SqliteStore

    return SqliteStore(location, sync=settings.sync, **options)
