"""One suite for every audit store (SQLite, and a real PostgreSQL): what is written is read
back, tampering of every kind is found and named, concurrent writers and crashes lose
nothing that was acknowledged.

PostgreSQL is at ``REGBUS_TEST_POSTGRES_URL`` (default postgresql://root@127.0.0.1:5432/test),
each test in a schema of its own, dropped after; without a server the PostgreSQL half skips,
unless CI=true, where it fails.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from regbus.adapters.base import CallContext
from regbus.bus.audit.entry import Entry, chain_hash
from regbus.bus.audit.lookup import lookups
from regbus.bus.audit.settings import AuditSettings
from regbus.bus.audit.signing import load_signer, load_verifier
from regbus.bus.audit.store import Store, open_store
from regbus.bus.audit.verify import Report, hashed_fields, verify
from regbus.bus.audit.writer import AuditLog

POSTGRES_URL = os.environ.get("REGBUS_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test")
IIN = "771130308916"
OTHER = "850314354052"
ROOT = Path(__file__).resolve().parent.parent


def entry(n: int, iin: str = IIN) -> Entry:
    context = CallContext(f"req-{n}", "desk-17", "op-4411", f"check {n}", "C-42")
    return Entry.of(context, "gbdfl", "get_person", {"iin": iin}, "none", "ok", 1.7e9 + n)


@dataclass
class Log:
    """One audit log under test: its settings, and a way around the bus to tamper with it."""

    settings: AuditSettings
    key: Path
    kind: str

    def store(self) -> Store:
        store = open_store(self.settings)
        store.signer = load_signer(self.key)[0]
        store.open()
        return store

    def write(self, count: int, *, start: int = 0) -> None:
        """``count`` entries, one commit each (a checkpoint every ``checkpoint_every``)."""
        store = self.store()
        try:
            for n in range(start, start + count):
                store.append([entry(n, IIN if n % 3 else OTHER)], 1.7e9 + n)
        finally:
            store.close()

    def sql(self, statement: str, *args: Any) -> list[tuple[Any, ...]]:
        """Run ``statement`` (``?`` placeholders) directly on the database."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.settings.location()) as db:
                return db.execute(statement, args).fetchall()
        import psycopg

        with psycopg.connect(self.settings.store, autocommit=True) as db:
            cur = db.execute(statement.replace("?", "%s"), args)  # type: ignore[arg-type]
            return cur.fetchall() if cur.description else []

    def verify(self, **options: Any) -> Report:
        store = open_store(self.settings)
        store.attach()
        try:
            return verify(store, load_verifier(self.key), **options)
        finally:
            store.close()


def postgres_schema() -> str:
    """A fresh schema on the test server; skips without one, fails under CI=true."""
    import psycopg

    schema = f"regbus_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3) as db:
            db.execute(f"CREATE SCHEMA {schema}")
    except psycopg.Error as exc:
        problem = f"PostgreSQL is not reachable at {POSTGRES_URL} ({type(exc).__name__}: {exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem}; under CI=true the PostgreSQL audit tests must run")
        pytest.skip(f"{problem}; start PostgreSQL or set CI=true to make this a failure")
    return schema


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
        db.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def in_schema(schema: str) -> str:
    return f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def log(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Log]:
    key = tmp_path / "audit.key"
    if request.param == "sqlite":
        settings = AuditSettings(store=str(tmp_path / "audit.sqlite3"), checkpoint_every=5)
        yield Log(settings, key, "sqlite")
        return
    schema = postgres_schema()
    try:
        yield Log(AuditSettings(store=in_schema(schema), checkpoint_every=5), key, "postgresql")
    finally:
        drop_schema(schema)


def problems(report: Report) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in report.problems]


# written and read back ------------------------------------------------------------------------


def test_an_untouched_log_verifies_and_says_how_much(log: Log) -> None:
    log.write(23)
    report = log.verify()
    assert report.ok, report.problems
    assert (report.entries, report.first_seq, report.last_seq) == (23, 1, 23)
    assert [c.last_seq for c in report.checkpoints] == [5, 10, 15, 20]
    assert "intact, 23 entries (1-23), 4 checkpoints" in report.summary()
    assert "the last at entry 20" in report.summary() and "3 entries after it" in report.summary()


def test_who_looked_a_person_up(log: Log) -> None:
    log.write(9)
    store = open_store(log.settings)
    store.attach()
    try:
        mine = lookups(store, IIN)
        others = lookups(store, OTHER)
        assert lookups(store, "000000000000") == []
    finally:
        store.close()
    assert [x.seq for x in mine] == [2, 3, 5, 6, 8, 9]
    assert [x.seq for x in others] == [1, 4, 7]
    first = mine[0]
    assert (first.client, first.operator, first.purpose, first.case_number) == (
        "desk-17",
        "op-4411",
        "check 1",
        "C-42",
    )
    assert (first.registry, first.operation, first.outcome, first.intact) == (
        "gbdfl",
        "get_person",
        "ok",
        True,
    )
    assert first.time.startswith("2023-11-14T22:13:21")


# tampering --------------------------------------------------------------------------------------


def test_one_byte_edited_in_one_entry_is_named(log: Log) -> None:
    log.write(12)
    log.sql("UPDATE regbus_audit SET purpose = 'check 8.' WHERE seq = 8")  # "check 7" → 8.
    report = log.verify()
    assert problems(report) == [(8, "edited")]
    assert "entry 8 was edited" in report.summary()
    assert "NOT intact" in report.summary()


@pytest.mark.parametrize("column", ["time", "client", "params", "subjects", "outcome", "hash"])
def test_an_edit_of_any_column_is_named(log: Log, column: str) -> None:
    log.write(6)
    (value,) = log.sql(f"SELECT {column} FROM regbus_audit WHERE seq = 4")[0]
    changed = value.replace("0", "1", 1) if "0" in value else value + " "
    log.sql(f"UPDATE regbus_audit SET {column} = ? WHERE seq = 4", changed)
    report = log.verify()
    assert report.problems and report.problems[0].seq == 4, report.problems
    assert report.problems[0].kind in ("edited", "index", "rewritten")


def test_an_entry_rewritten_with_its_hash_recomputed_is_named(log: Log) -> None:
    log.write(12)
    store = open_store(log.settings)
    store.attach()
    with store.snapshot():
        row = next(r for r in store.rows() if r.seq == 7)
    store.close()
    fields = hashed_fields(row)
    assert fields is not None
    fields["purpose"] = "nothing to see"
    new_hash = chain_hash(fields, row.prev_hash)
    log.sql(
        "UPDATE regbus_audit SET purpose = ?, hash = ? WHERE seq = 7", "nothing to see", new_hash
    )
    report = log.verify()
    assert problems(report)[0] == (7, "rewritten"), report.problems
    assert "entry 7 was rewritten" in report.problems[0].text


def test_a_deleted_entry_is_named(log: Log) -> None:
    log.write(12)
    log.sql("DELETE FROM regbus_audit WHERE seq = 6")
    report = log.verify()
    assert problems(report) == [(6, "missing")]
    assert "entry 6 is missing (deleted)" in report.summary()


def test_a_deleted_entry_with_the_later_ones_renumbered_is_found(log: Log) -> None:
    log.write(12)
    log.sql("DELETE FROM regbus_audit WHERE seq = 6")
    log.sql("DELETE FROM regbus_audit_subjects WHERE seq = 6")
    for seq in range(7, 13):
        log.sql("UPDATE regbus_audit SET seq = ? WHERE seq = ?", seq - 1, seq)
        log.sql("UPDATE regbus_audit_subjects SET seq = ? WHERE seq = ?", seq - 1, seq)
    report = log.verify()
    assert problems(report)[0] == (5, "rewritten"), report.problems
    assert "an entry after it deleted and the later ones renumbered" in report.problems[0].text
    assert (12, "missing") in problems(report)  # the head, and checkpoint 2, name entry 12


def test_reordered_entries_are_named(log: Log) -> None:
    log.write(12)
    log.sql("UPDATE regbus_audit SET seq = -1 WHERE seq = 3")
    log.sql("UPDATE regbus_audit SET seq = 3 WHERE seq = 4")
    log.sql("UPDATE regbus_audit SET seq = 4 WHERE seq = -1")
    report = log.verify()
    assert problems(report)[:2] == [(3, "reordered"), (4, "reordered")], report.problems
    assert "entry 3 is out of order: it was written after entry 4" in report.summary()


def test_entries_cut_from_the_end_are_found_by_the_head_and_the_checkpoints(log: Log) -> None:
    log.write(12)
    log.sql("DELETE FROM regbus_audit WHERE seq > 8")
    report = log.verify()
    assert (9, "missing") in problems(report)
    assert any("head says it reached entry 12" in p.text for p in report.problems)
    assert any("checkpoint 2 signed entries up to 10" in p.text for p in report.problems)


def test_what_a_cut_with_the_head_fixed_leaves_and_what_an_anchor_finds(log: Log) -> None:
    log.write(12)
    (last_hash,) = log.sql("SELECT hash FROM regbus_audit WHERE seq = 12")[0]
    (eleventh,) = log.sql("SELECT hash FROM regbus_audit WHERE seq = 11")[0]
    log.sql("DELETE FROM regbus_audit WHERE seq = 12")
    log.sql("UPDATE regbus_audit_head SET last_seq = 11, last_hash = ?", eleventh)
    # After the last checkpoint (entry 10) and with the head fixed too: the log alone
    # cannot tell (docs/audit.md), a checkpoint's line kept elsewhere can.
    assert log.verify().ok
    report = log.verify(anchors=[(12, last_hash)])
    assert problems(report) == [(12, "missing")]


def test_a_checkpoint_altered_or_deleted_is_named(log: Log) -> None:
    log.write(16)
    log.sql("UPDATE regbus_audit_checkpoints SET time = '2020-01-01' WHERE number = 2")
    report = log.verify()
    assert problems(report) == [(2, "signature")]
    assert "checkpoint 2 (entry 10) has a bad signature" in report.summary()
    log.sql("DELETE FROM regbus_audit_checkpoints WHERE number = 2")
    assert problems(log.verify()) == [(2, "checkpoint")]
    log.sql("DELETE FROM regbus_audit_checkpoints WHERE number = 3")  # the last one
    report = log.verify()
    assert problems(report) == [(2, "checkpoint")]
    assert "the log's head says checkpoint 3 was signed, but the last one is 1" in (
        report.problems[0].text
    )


def test_checkpoints_signed_by_another_key_are_named(log: Log, tmp_path: Path) -> None:
    log.write(6)
    other = tmp_path / "other.key"
    load_signer(other)
    store = open_store(log.settings)
    store.attach()
    try:
        report = verify(store, load_verifier(other))
    finally:
        store.close()
    assert problems(report) == [(1, "signature")]
    assert "names key" in report.problems[0].text


def test_an_entry_hidden_from_the_subject_index_is_named(log: Log) -> None:
    log.write(6)
    log.sql("DELETE FROM regbus_audit_subjects WHERE seq = 5")
    report = log.verify()
    assert problems(report) == [(5, "index")]
    assert "regbus audit subject would not show it right" in report.summary()


def test_a_raw_byte_edit_of_the_sqlite_file_is_named(tmp_path: Path) -> None:
    log = Log(AuditSettings(store=str(tmp_path / "a.sqlite3")), tmp_path / "k", "sqlite")
    log.write(10)
    path = tmp_path / "a.sqlite3"
    data = bytearray(path.read_bytes())
    at = data.index(b"check 6")
    data[at + 6] = ord("X")  # one byte of entry 7's purpose, in the file itself
    path.write_bytes(bytes(data))
    assert problems(log.verify()) == [(7, "edited")]


# writers ----------------------------------------------------------------------------------------


async def test_concurrent_writers_lose_and_reorder_nothing_acknowledged(log: Log) -> None:
    writers = [AuditLog.from_settings(log.settings) for _ in range(4)]
    for audit in writers:
        audit.key_file = log.key
        await audit.start()

    async def calls(index: int, audit: AuditLog) -> list[tuple[int, str]]:
        acknowledged = []
        for n in range(60):
            e = entry(n)._replace(request_id=f"w{index}-{n}")
            acknowledged.append((await audit.record(e), e.request_id))
        return acknowledged

    async def burst(index: int, audit: AuditLog) -> list[tuple[int, str]]:
        batch = [entry(n)._replace(request_id=f"b{index}-{n}") for n in range(40)]
        seqs = await asyncio.gather(*(audit.record(e) for e in batch))
        return list(zip(seqs, (e.request_id for e in batch), strict=True))

    try:
        results = await asyncio.gather(
            *(calls(i, a) for i, a in enumerate(writers)),
            *(burst(i, a) for i, a in enumerate(writers)),
        )
    finally:
        for audit in writers:
            await audit.aclose()
    acknowledged = [pair for result in results for pair in result]
    for result in results[:4]:  # one caller's calls, one after another: in that order
        assert [seq for seq, _ in result] == sorted(seq for seq, _ in result)
    stored = dict(log.sql("SELECT seq, request_id FROM regbus_audit"))
    assert len(stored) == len(acknowledged) == 4 * 100
    assert all(stored[seq] == request_id for seq, request_id in acknowledged)
    assert log.verify().ok


WRITER = """
import asyncio, sys, time
from pathlib import Path
from regbus.adapters.base import CallContext
from regbus.bus.audit.entry import Entry
from regbus.bus.audit.settings import AuditSettings
from regbus.bus.audit.writer import AuditLog

async def main(store, key, name):
    audit = AuditLog.from_settings(AuditSettings(store=store, checkpoint_every=50))
    audit.key_file = Path(key)
    await audit.start()
    print("ready", flush=True)

    async def caller(k):
        n = 0
        while True:
            n += 1
            rid = f"{name}-{k}-{n}"
            context = CallContext(rid, "desk", "op", "crash test")
            e = Entry.of(context, "gbdfl", "get_person", {"iin": "771130308916"}, "none", "ok",
                         time.time())
            seq = await audit.record(e)
            print("ack", seq, rid, flush=True)

    await asyncio.gather(*(caller(k) for k in range(16)))

asyncio.run(main(*sys.argv[1:]))
"""


async def test_a_crash_loses_nothing_acknowledged(log: Log) -> None:
    """Two processes write to one log at once; one is killed mid-stream, then the other."""
    location = log.settings.store if log.kind == "postgresql" else log.settings.location()
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WRITER,
            location,
            str(log.key),
            name,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        for name in ("a", "b")
    ]
    acknowledged: dict[int, str] = {}
    try:
        for process in processes:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), 60)
            assert line == b"ready\n", line

        async def read(process: asyncio.subprocess.Process, until: int) -> None:
            assert process.stdout is not None
            while len(acknowledged) < until:
                line = await process.stdout.readline()
                if not line:
                    break
                _, seq, request_id = line.decode().split()
                acknowledged[int(seq)] = request_id

        await asyncio.wait_for(asyncio.gather(*(read(p, 400) for p in processes)), 120)
    finally:
        for process in processes:  # killed, not stopped: no last batch, no last checkpoint
            if process.returncode is None:
                process.send_signal(signal.SIGKILL)
            await process.wait()
    assert len(acknowledged) >= 400
    stored = dict(log.sql("SELECT seq, request_id FROM regbus_audit"))
    lost = {seq: rid for seq, rid in acknowledged.items() if stored.get(seq) != rid}
    assert not lost, f"acknowledged but not in the log: {sorted(lost)[:10]}"
    assert log.verify().ok
    log.write(3, start=1000)  # a bus started again carries the same chain on
    report = log.verify()
    assert report.ok and report.last_seq == len(stored) + 3


def test_a_lost_database_connection_refuses_one_batch_then_reconnects(tmp_path: Path) -> None:
    from regbus.bus.audit.errors import AuditError

    schema = postgres_schema()
    try:
        log = Log(AuditSettings(store=in_schema(schema)), tmp_path / "k", "postgresql")
        store = log.store()
        store.append([entry(1)], 1.7e9)
        (pid,) = store.conn.execute("SELECT pg_backend_pid()").fetchone()
        log.sql("SELECT pg_terminate_backend(?)", pid)  # the server restarted, say
        with pytest.raises(AuditError, match="audit log postgresql://"):
            store.append([entry(2)], 1.7e9)
        assert store.append([entry(3)], 1.7e9) == 2  # a new connection, the chain goes on
        store.close()
        assert log.verify().ok
    finally:
        drop_schema(schema)
