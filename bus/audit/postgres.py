"""The audit log in PostgreSQL (``[audit] store = "postgresql://..."``): one chain for
every bus process and replica writing to the database, serialised by a row lock on the
head. Driven by psycopg 3 from the log's own thread, like the SQLite store."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from regbus.bus.audit.errors import AuditError
from regbus.bus.audit.store import CHECKPOINTS, COLUMNS, ENTRIES, HEAD, SUBJECTS, Store

CONNECT_TIMEOUT = 10  # seconds
# pg_advisory_xact_lock key held while the tables are created (several processes start).
_SCHEMA_LOCK = 0x7265676275730A  # "regbus\n"
_FETCH = 2000


class PostgresStore(Store):
    placeholder = "%s"
    driver_error = psycopg.Error
    _lock_clause = " FOR UPDATE"

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(**options)
        self.url = url
        self.location = shown_url(url)
        self._cursors = 0

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            return psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.Error as exc:
            raise AuditError(f"cannot connect to the audit log {self.location}: {exc}") from exc

    def _schema(self) -> list[str]:
        return [
            f"CREATE TABLE IF NOT EXISTS {ENTRIES} (seq BIGINT PRIMARY KEY,"
            " time TEXT NOT NULL, client TEXT NOT NULL, operator TEXT NOT NULL,"
            " purpose TEXT NOT NULL, case_number TEXT NOT NULL, registry TEXT NOT NULL,"
            " operation TEXT NOT NULL, params TEXT NOT NULL, subjects TEXT NOT NULL,"
            " outcome TEXT NOT NULL, reason TEXT NOT NULL, request_id TEXT NOT NULL,"
            " prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {SUBJECTS} (subject TEXT NOT NULL,"
            " seq BIGINT NOT NULL, PRIMARY KEY (subject, seq))",
            f"CREATE TABLE IF NOT EXISTS {CHECKPOINTS} (number BIGINT PRIMARY KEY,"
            " last_seq BIGINT NOT NULL, last_hash TEXT NOT NULL, time TEXT NOT NULL,"
            " key_id TEXT NOT NULL, signature TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {HEAD} (id INTEGER PRIMARY KEY CHECK (id = 1),"
            " last_seq BIGINT NOT NULL, last_hash TEXT NOT NULL,"
            " checkpoint_number BIGINT NOT NULL, checkpoint_seq BIGINT NOT NULL,"
            " checkpoint_at DOUBLE PRECISION NOT NULL)",
        ]

    @contextlib.contextmanager
    def _writing(self) -> Iterator[psycopg.Cursor[Any]]:
        with self._translating(), self.conn.transaction(), self.conn.cursor() as cur:
            yield cur

    def _insert(
        self, cur: psycopg.Cursor[Any], rows: list[tuple[Any, ...]], subjects: list[tuple[str, int]]
    ) -> None:
        # COPY: a batch in one stream, several times cheaper than one INSERT per row.
        with cur.copy(f"COPY {ENTRIES} ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if subjects:
            with cur.copy(f"COPY {SUBJECTS} (subject, seq) FROM STDIN") as copy:
                for subject in subjects:
                    copy.write_row(subject)

    @contextlib.contextmanager
    def _writing_schema(self) -> Iterator[psycopg.Cursor[Any]]:
        with self._writing() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            yield cur

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        with self._translating():
            conn = self.conn
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            try:
                with conn.transaction():
                    yield
            finally:
                conn.isolation_level = None

    def _stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        self._cursors += 1
        with self.conn.cursor(name=f"regbus_audit_{self._cursors}") as cur:
            cur.itersize = _FETCH
            cur.execute(self.sql(sql), tuple(args))
            yield from cur

    def _lost(self, exc: BaseException) -> bool:
        return bool(self._conn is not None and (self._conn.broken or self._conn.closed))

    def _tables_exist(self) -> bool:
        with self._cursor() as cur:
            cur.execute("SELECT to_regclass(%s)", (HEAD,))
            found = cur.fetchone()
            return found is not None and found[0] is not None


def shown_url(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
