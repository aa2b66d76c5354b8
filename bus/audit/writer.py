"""The audit log as the bus uses it: group commit off the event loop.

    audit = AuditLog.from_settings(config.audit)
    await audit.start()
    seq = await audit.record(entry)      # returns once the entry is committed
    await audit.aclose()                  # the rest written, a last checkpoint signed

``record`` queues the entry and waits. The log's own thread takes everything queued (up
to ``MAX_BATCH``), hashes it and commits it in one transaction while the next batch
gathers, so under load many calls share one commit; the event loop only queues entries
and, once per commit, settles its callers. An entry is acknowledged (``record`` returns
its seq) only after its transaction committed; when a commit fails, every caller of that
batch gets ``AuditUnavailable`` and no answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from regbus.bus.audit.entry import Entry
from regbus.bus.audit.errors import AuditError, AuditUnavailable
from regbus.bus.audit.settings import AuditSettings
from regbus.bus.audit.signing import Checkpoint, load_signer, open_to_others
from regbus.bus.audit.store import Store, open_store

log = logging.getLogger("regbus.bus.audit")
MAX_BATCH = 1024
# An entry that finds the log idle while other calls are under way (``AuditLog.active``)
# waits this long for their entries to share its commit: group commit under load, and no
# wait at all for a call on its own.
GATHER = 0.0005


class AuditLog:
    """Entries in, acknowledged once durable; signed checkpoints on the way.

    ``key_file`` signs the checkpoints (made when missing); None signs none (tests).
    """

    def __init__(self, store: Store, key_file: Path | None) -> None:
        self.store = store
        self.key_file = key_file
        self.key_id = ""
        self._inbox: queue.SimpleQueue[_Queued | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Future[None] | None = None
        self._closing = False
        self._unsigned = False  # entries written since this process last checked
        # Calls under way that will record an entry (the router counts them): while there
        # are any, a lone entry waits a moment for company.
        self.active = 0
        self.batches = 0
        self.written = 0

    @classmethod
    def from_settings(
        cls, settings: AuditSettings, environ: Mapping[str, str] | None = None
    ) -> AuditLog:
        return cls(open_store(settings, environ), settings.key_path(environ))

    async def start(self) -> None:
        """Load (or make) the key, connect, create the tables, in the log's own thread;
        ``AuditError`` says why not."""
        loop = self._loop = asyncio.get_running_loop()
        opened: asyncio.Future[None] = loop.create_future()
        self._stopped = loop.create_future()
        self._thread = threading.Thread(
            target=self._run, args=(opened,), name="regbus-audit", daemon=True
        )
        self._thread.start()
        try:
            await opened
        except BaseException:
            self._thread = None
            raise

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

    async def record(self, entry: Entry, *, within: float | None = None) -> int:
        """Write ``entry``; its seq once it is committed. ``AuditUnavailable`` when it
        could not be, or was not confirmed ``within`` seconds (the caller must not get an
        answer; the entry is written all the same)."""
        if self._closing or self._thread is None or self._loop is None:
            raise AuditUnavailable("the audit log is not running; the call was not answered")
        future: asyncio.Future[int] = self._loop.create_future()
        self._inbox.put((entry, future))
        # A cancelled caller's entry is written all the same: it is already queued.
        if within is None:
            return await future
        try:
            return await asyncio.wait_for(future, max(within, 0.0))
        except TimeoutError:
            raise AuditUnavailable(
                "the audit log did not confirm the call's entry before the caller's deadline,"
                " so its answer is withheld"
            ) from None

    # the log's thread ---------------------------------------------------------------------

    def _run(self, opened: asyncio.Future[None]) -> None:
        loop = self._loop
        assert loop is not None and self._stopped is not None
        try:
            self._open()
        except BaseException as exc:
            loop.call_soon_threadsafe(_settle_one, opened, exc)
            return
        loop.call_soon_threadsafe(_settle_one, opened, None)
        try:
            self._write_until_closed(loop)
        finally:
            with contextlib.suppress(Exception):
                self.store.close()
            loop.call_soon_threadsafe(_settle_one, self._stopped, None)

    def _write_until_closed(self, loop: asyncio.AbstractEventLoop) -> None:
        every = self.store.checkpoint_seconds
        inbox = self._inbox
        closing = False
        while not closing:
            try:
                first = inbox.get(timeout=every)
            except queue.Empty:  # quiet for a while: sign what came since the last
                self._checkpoint()
                continue
            if first is not None and self.active > 0 and inbox.empty():
                # It came alone while other calls are under way, which will want entries
                # soon: let them join its commit rather than each pay a commit of its own.
                time.sleep(GATHER)
            batch: list[_Queued] = []
            if first is None:
                closing = True
            else:
                batch.append(first)
            while len(batch) < MAX_BATCH:  # everything queued meanwhile, one commit
                try:
                    more = inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    closing = True
                else:
                    batch.append(more)
            if batch:
                loop.call_soon_threadsafe(_settle, batch, *self._write(batch))
        while (left := _drained(inbox)) is not None:  # what came with or after the close
            loop.call_soon_threadsafe(_settle, left, *self._write(left))
        self._checkpoint()

    def _write(self, batch: list[_Queued]) -> tuple[int, BaseException | None]:
        """Commit ``batch``: the first entry's seq, or the error its callers get."""
        try:
            first = self.store.append([entry for entry, _ in batch], time.time())
        except Exception as exc:
            log.error(
                "audit log %s: %d entries not written, their calls refused: %s",
                self.store.location,
                len(batch),
                exc,
                exc_info=not isinstance(exc, AuditError),
            )
            return 0, AuditUnavailable(
                "the call could not be recorded in the audit log, so its answer is withheld"
            )
        self.batches += 1
        self.written += len(batch)
        self._unsigned = True
        return first, None

    def _checkpoint(self) -> None:
        if not self._unsigned:
            return
        try:
            self.store.checkpoint(time.time(), force=True)
            self._unsigned = False
        except Exception as exc:
            log.error("audit log %s: no checkpoint signed: %s", self.store.location, exc)

    async def aclose(self) -> None:
        """Write what is queued, sign a last checkpoint, disconnect."""
        if self._closing:
            return
        self._closing = True
        if self._thread is not None and self._stopped is not None:
            self._inbox.put(None)
            await self._stopped
            self._thread = None


_Queued = tuple[Entry, "asyncio.Future[int]"]


def _drained(inbox: queue.SimpleQueue[_Queued | None]) -> list[_Queued] | None:
    """Up to MAX_BATCH entries left in ``inbox``; None when it is empty."""
    found: list[_Queued] = []
    while len(found) < MAX_BATCH:
        try:
            item = inbox.get_nowait()
        except queue.Empty:
            break
        if item is not None:
            found.append(item)
    return found or None


def _settle(batch: list[_Queued], first: int, error: BaseException | None) -> None:
    """On the loop: each caller of a committed batch gets its seq, or all get ``error``."""
    for offset, (_, future) in enumerate(batch):
        if future.done():  # a caller cancelled meanwhile
            continue
        if error is None:
            future.set_result(first + offset)
        else:
            future.set_exception(error)


def _settle_one(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


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
