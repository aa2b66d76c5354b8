"""The audit log as the bus uses it: group commit off the event loop.

    audit = AuditLog.from_settings(config.audit)
    await audit.start()
    seq = await audit.record(entry)      # returns once the entry is committed
    await audit.aclose()                  # the rest written, a last checkpoint signed

``record`` queues the entry and waits. One writer task takes everything queued (up to
``MAX_BATCH``), and the log's own thread hashes and commits it in one transaction while
the next batch gathers, so under load many calls share one commit. An entry is
acknowledged (``record`` returns its seq) only after its transaction committed; when a
commit fails, every caller of that batch gets ``AuditUnavailable`` and no answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from regbus.bus.audit.entry import Entry
from regbus.bus.audit.errors import AuditError, AuditUnavailable
from regbus.bus.audit.settings import AuditSettings
from regbus.bus.audit.signing import Checkpoint, load_signer, open_to_others
from regbus.bus.audit.store import Store, open_store

log = logging.getLogger("regbus.bus.audit")
MAX_BATCH = 1024
T = TypeVar("T")


class AuditLog:
    """Entries in, acknowledged once durable; signed checkpoints on the way.

    ``key_file`` signs the checkpoints (made when missing); None signs none (tests).
    """

    def __init__(self, store: Store, key_file: Path | None) -> None:
        self.store = store
        self.key_file = key_file
        self.key_id = ""
        self._queue: list[tuple[Entry, asyncio.Future[int]]] = []
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._closing = False
        self._unsigned = False  # entries written since this process last checked
        self.batches = 0
        self.written = 0

    @classmethod
    def from_settings(
        cls, settings: AuditSettings, environ: Mapping[str, str] | None = None
    ) -> AuditLog:
        return cls(open_store(settings, environ), settings.key_path(environ))

    async def start(self) -> None:
        """Load (or make) the key, connect, create the tables; ``AuditError`` says why not."""
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="regbus-audit")
        try:
            await self._in_thread(self._open)
        except BaseException:
            self._thread.shutdown(wait=False)
            self._thread = None
            raise
        self._writer = asyncio.create_task(self._write_forever(), name="regbus-audit-writer")

    def _open(self) -> None:
        if self.key_file is not None:
            signer, created = load_signer(self.key_file)
            self.store.signer = signer
            self.key_id = signer.key_id
            if created:
                log.warning(
                    "made a new audit signing key %s (key id %s; public key in %s.pub):"
                    " keep it, regbus audit verify checks the log's checkpoints with it",
                    self.key_file,
                    signer.key_id,
                    self.key_file.name,
                )
            elif open_to_others(self.key_file):
                log.warning(
                    "audit signing key %s can be read by others: chmod 600 it", self.key_file
                )
        self.store.on_checkpoint = _log_checkpoint
        self.store.open()

    async def record(self, entry: Entry) -> int:
        """Write ``entry``; its seq once it is committed. ``AuditUnavailable`` when it
        could not be (the caller must not get an answer)."""
        if self._closing or self._writer is None:
            raise AuditUnavailable("the audit log is not running; the call was not answered")
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.append((entry, future))
        self._wake.set()
        # A cancelled caller's entry is written all the same: it is already queued.
        return await future

    async def _write_forever(self) -> None:
        every = self.store.checkpoint_seconds
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wake.clear()
                try:
                    async with asyncio.timeout(every):
                        await self._wake.wait()
                except TimeoutError:  # quiet for a while: sign what came since the last
                    await self._checkpoint()
                continue
            batch = self._queue[:MAX_BATCH]
            del self._queue[:MAX_BATCH]
            await self._write(batch)

    async def _write(self, batch: list[tuple[Entry, asyncio.Future[int]]]) -> None:
        try:
            first = await self._in_thread(
                self.store.append, [entry for entry, _ in batch], time.time()
            )
        except Exception as exc:
            log.error(
                "audit log %s: %d entries not written, their calls refused: %s",
                self.store.location,
                len(batch),
                exc,
                exc_info=not isinstance(exc, AuditError),
            )
            for _, future in batch:
                if not future.done():
                    future.set_exception(
                        AuditUnavailable(
                            "the call could not be recorded in the audit log, so its answer"
                            " is withheld"
                        )
                    )
            return
        self.batches += 1
        self.written += len(batch)
        self._unsigned = True
        for offset, (_, future) in enumerate(batch):
            if not future.done():  # a caller cancelled meanwhile
                future.set_result(first + offset)

    async def _checkpoint(self) -> None:
        if not self._unsigned:
            return
        try:
            await self._in_thread(self.store.checkpoint, time.time(), force=True)
            self._unsigned = False
        except Exception as exc:
            log.error("audit log %s: no checkpoint signed: %s", self.store.location, exc)

    async def aclose(self) -> None:
        """Write what is queued, sign a last checkpoint, disconnect."""
        if self._closing:
            return
        self._closing = True
        self._wake.set()
        if self._writer is not None:
            await self._writer
            self._writer = None
        if self._thread is not None:
            await self._checkpoint()
            with contextlib.suppress(Exception):
                await self._in_thread(self.store.close)
            self._thread.shutdown(wait=False)
            self._thread = None

    async def _in_thread(self, call: Callable[..., T], *args: object, **kwargs: object) -> T:
        assert self._thread is not None
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, lambda: call(*args, **kwargs))


def _log_checkpoint(checkpoint: Checkpoint) -> None:
    """A line to keep outside the log: ``regbus audit verify --anchor`` checks the log
    still holds that entry unchanged (a cut after the last checkpoint shows no other way)."""
    log.info(
        "audit checkpoint %d signed at entry %d; anchor: %d:%s",
        checkpoint.number,
        checkpoint.last_seq,
        checkpoint.last_seq,
        checkpoint.last_hash,
    )
