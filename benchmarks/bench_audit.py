"""What the audit log costs a call: CPU per entry and group-commit batch sizes.

    python benchmarks/bench_audit.py [--entries N] [--concurrency 1,16,128,512]
                                     [--postgres postgresql://root@127.0.0.1/test]

First the encoding and hashing of one entry alone (what every entry costs, whatever the
store); then, for each concurrency, that many callers each awaiting ``AuditLog.record``
one entry after another, as the router does after every call: how many commits served
them (group commit), the CPU per entry of the whole process and of the event loop's
thread alone (the rest is the log's own thread), and the wall time a caller waits for its
entry to be durable. SQLite in a temporary folder (synchronous = FULL: an fsync per
commit); PostgreSQL too with ``--postgres``, in a schema of its own, dropped after.
A shared machine: read the figures as orders of magnitude.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import uuid
from pathlib import Path

from regbus.adapters.base import CallContext
from regbus.bus.audit.entry import GENESIS, Entry, seal
from regbus.bus.audit.settings import AuditSettings
from regbus.bus.audit.writer import AuditLog

CONTEXT = CallContext(
    "6f1c2a4e-9b7d-4c1e-8f3a-2b5d7e9f1a3c", "desk-almaty-17", "op-4411", "citizen_service", "C-42"
)


def entry() -> Entry:
    return Entry.of(
        CONTEXT, "gbdfl", "get_person", {"iin": "771130308916"}, "none", "ok", time.time()
    )


def encoding(count: int) -> float:
    """CPU µs to build and seal one entry."""
    prev = GENESIS
    started = time.process_time()
    for _ in range(count):
        prev = seal(entry(), prev).hash
    return (time.process_time() - started) / count * 1e6


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(settings: AuditSettings, key: Path, concurrency: int, entries: int) -> str:
    audit = AuditLog.from_settings(settings)
    audit.key_file = key
    await audit.start()
    per_caller = max(1, entries // concurrency)

    async def caller() -> None:
        for _ in range(per_caller):
            await audit.record(entry())

    process, loop_thread, wall = cpu(), time.thread_time(), time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    wall = time.perf_counter() - wall
    loop_thread = time.thread_time() - loop_thread
    process = cpu() - process
    total = per_caller * concurrency
    await audit.aclose()
    return (
        f"{concurrency:>5} callers: {total:>6} entries in {audit.batches:>5} commits"
        f" (mean batch {audit.written / max(audit.batches, 1):6.1f}),"
        f" CPU {process / total * 1e6:6.1f} µs/entry ({loop_thread / total * 1e6:5.1f} µs on"
        f" the event loop), a caller waits {wall / per_caller * 1e3:6.2f} ms per entry"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--concurrency", default="1,16,128,512")
    parser.add_argument("--postgres", metavar="URL", help="also a PostgreSQL database")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    print(f"encoding and hashing: {encoding(20_000):.1f} µs CPU per entry")
    with tempfile.TemporaryDirectory() as folder:
        key = Path(folder) / "audit.key"
        print("SQLite (WAL, synchronous = FULL):")
        for level in levels:
            store = str(Path(folder) / f"audit-{level}.sqlite3")
            count = min(args.entries, 500 * level)
            print(" ", await run(AuditSettings(store=store), key, level, count))
        if args.postgres:
            await postgres(args.postgres, key, levels, args.entries)


async def postgres(url: str, key: Path, levels: list[int], entries: int) -> None:
    import psycopg

    schema = f"regbus_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    try:
        store = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
        print("PostgreSQL:")
        for level in levels:
            count = min(entries, 500 * level)
            print(" ", await run(AuditSettings(store=store), key, level, count))
    finally:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    asyncio.run(main())
