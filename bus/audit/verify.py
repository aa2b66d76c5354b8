"""Check the whole log: every entry against its hash and its place in the chain, the
subject index against the entries, the checkpoints against their signatures and the
entries they signed, and the head against the last entry.

    report = verify(store, load_verifier(Path("regbus-audit.key.pub")))
    print(report.summary())          # "... intact: 1200 entries ..." or the first problem

What each finding means:

- edited: an entry's fields no longer give its hash (a byte of it changed).
- rewritten: an entry was changed and its hash recomputed; the next entry still links to
  the old hash, or a checkpoint signed the old one.
- missing: an entry's number was skipped (deleted), the chain breaks (deleted with the
  later ones renumbered), or a checkpoint or the head names entries past the end
  (deleted from the end).
- reordered: an entry links to a different entry than the one now before it.
- signature: a checkpoint's signature is wrong, or made with another key.
- checkpoint: a checkpoint is missing from their sequence.
- index: the subject index does not list an entry's subjects as the entry has them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from regbus.bus.audit.entry import GENESIS, chain_hash, dumps
from regbus.bus.audit.signing import Checkpoint, Verifier
from regbus.bus.audit.store import Head, Row, Store

MAX_PROBLEMS = 20


@dataclass(frozen=True)
class Problem:
    seq: int  # the entry named (a checkpoint's number for "checkpoint" and "signature")
    kind: str
    text: str


@dataclass
class Report:
    location: str
    entries: int = 0
    first_seq: int = 0
    last_seq: int = 0
    checkpoints: list[Checkpoint] = field(default_factory=list)
    key_id: str = ""  # the key the signatures were checked with; "" when none was
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0  # found past MAX_PROBLEMS, not kept

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, seq: int, kind: str, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(seq, kind, text))
        else:
            self.more_problems += 1

    def summary(self) -> str:
        """One line: intact and how much, or how many problems and the first."""
        if self.problems:
            count = len(self.problems) + self.more_problems
            return (
                f"audit log {self.location}: NOT intact, {count} problem(s); the first:"
                f" {self.problems[0].text}"
            )
        if not self.entries:
            return f"audit log {self.location}: intact, no entries yet"
        text = (
            f"audit log {self.location}: intact, {self.entries} entries"
            f" ({self.first_seq}-{self.last_seq})"
        )
        if not self.checkpoints:
            return text + ", no checkpoint yet"
        last = self.checkpoints[-1]
        after = self.last_seq - last.last_seq
        signed = f" signed by key {self.key_id}" if self.key_id else " (signatures not checked)"
        count = len(self.checkpoints)
        return (
            f"{text}, {count} checkpoint{'s' if count > 1 else ''}{signed}, the last at entry"
            f" {last.last_seq} ({last.time}); {after} entries after it"
        )


def verify(
    store: Store,
    verifier: Verifier | None,
    *,
    anchors: Sequence[tuple[int, str]] = (),
) -> Report:
    """Read the whole log (one consistent snapshot) and report what is wrong with it.

    ``anchors`` are (seq, hash) pairs recorded elsewhere (the log lines of checkpoints):
    each entry must still be there with that hash.
    """
    report = Report(store.location, key_id=verifier.key_id if verifier is not None else "")
    with store.snapshot():
        head = store.head()
        checkpoints = store.checkpoints()
        report.checkpoints = checkpoints
        signed: dict[int, list[Checkpoint]] = {}
        for checkpoint in checkpoints:
            signed.setdefault(checkpoint.last_seq, []).append(checkpoint)
        anchored = dict(anchors)
        _check_checkpoints(report, checkpoints, verifier)
        index = _Index(store.subject_index())
        expected, prev = 1, GENESIS
        moved: set[int] = set()  # entries found edited or out of place
        last: Row | None = None
        for row in store.rows():
            if report.entries == 0:
                report.first_seq = row.seq
            report.entries += 1
            gap = row.seq != expected
            if gap:
                report.add(expected, "missing", _missing(expected, row.seq - 1))
            before = len(report.problems) + report.more_problems
            sound = _check_entry(report, store, row, prev, linked=not gap, moved=moved)
            listed = index.take(row.seq)
            if len(report.problems) + report.more_problems == before:
                _check_index(report, row, listed)
            if not sound:
                moved.add(row.seq)  # its successor's link is judged by what it was
            for checkpoint in signed.pop(row.seq, ()):
                if checkpoint.last_hash != row.hash:
                    report.add(
                        row.seq,
                        "rewritten",
                        f"entry {row.seq} is not what checkpoint {checkpoint.number} signed"
                        f" at {checkpoint.time}: it, or an entry before it, was rewritten"
                        " since",
                    )
            if row.seq in anchored and anchored.pop(row.seq) != row.hash:
                report.add(row.seq, "rewritten", f"entry {row.seq} differs from its anchor")
            expected, prev, last = row.seq + 1, row.hash, row
        report.last_seq = last.seq if last is not None else 0
        end = report.last_seq
        for seq, found in sorted(signed.items()):
            report.add(
                end + 1,
                "missing",
                f"checkpoint {found[0].number} signed entries up to {seq}, but the log ends at"
                f" entry {end}: {_missing(end + 1, seq)}",
            )
        for seq in sorted(anchored):
            report.add(seq, "missing", f"anchored entry {seq} is not in the log")
        _check_head(report, head, last, checkpoints)
    return report


def _missing(first: int, last: int) -> str:
    if first == last:
        return f"entry {first} is missing (deleted)"
    return f"entries {first}-{last} are missing (deleted)"


def hashed_fields(row: Row) -> dict[str, Any] | None:
    """The fields of ``row`` as they are hashed, or None when its ``params`` or
    ``subjects`` are not canonical JSON (so not as written)."""
    fields: dict[str, Any] = dict(row.fields)
    for name in ("params", "subjects"):
        text = fields[name]
        try:
            value = json.loads(text)
        except (TypeError, ValueError):
            return None
        if dumps(value) != text:
            return None
        fields[name] = value
    return fields


def intact(row: Row) -> bool:
    """Whether ``row``'s fields still give its hash (its place in the chain aside)."""
    fields = hashed_fields(row)
    return fields is not None and chain_hash(fields, row.prev_hash) == row.hash


def _check_entry(
    report: Report, store: Store, row: Row, prev: str, *, linked: bool, moved: set[int]
) -> bool:
    """Report what is wrong with one entry; whether it is sound where it is."""
    if not intact(row):
        text = f"entry {row.seq} was edited: its fields no longer match its hash"
        report.add(row.seq, "edited", text)
        return False
    if not linked or row.prev_hash == prev:
        return True
    before = store.seq_of(row.prev_hash) if row.prev_hash != GENESIS else 0
    if before is not None and before in moved:
        return True  # it follows the entry it was written after, which was moved
    if before is not None and before != row.seq - 1:
        after = "as the first entry" if before == 0 else f"after entry {before}"
        report.add(
            row.seq,
            "reordered",
            f"entry {row.seq} is out of order: it was written {after}, not after entry"
            f" {row.seq - 1}",
        )
        return False
    if row.seq - 1 not in moved:
        report.add(
            row.seq - 1,
            "rewritten",
            f"entry {row.seq - 1} was rewritten and its hash recomputed, or an entry after it"
            f" deleted and the later ones renumbered: entry {row.seq} was written after an"
            " entry that is no longer there",
        )
    return True


def _check_index(report: Report, row: Row, listed: list[str]) -> None:
    try:
        subjects = json.loads(row.fields["subjects"])
    except (TypeError, ValueError):
        return  # reported as edited
    if sorted(listed) != sorted(subjects):
        report.add(
            row.seq,
            "index",
            f"the subject index does not list entry {row.seq} as the entry reads (index:"
            f" {len(listed)} subject(s), entry: {len(subjects)}): regbus audit subject would"
            " not show it right",
        )


def _check_checkpoints(
    report: Report, checkpoints: list[Checkpoint], verifier: Verifier | None
) -> None:
    number, seq = 0, 0
    for checkpoint in checkpoints:
        if checkpoint.number != number + 1:
            report.add(
                number + 1,
                "checkpoint",
                f"checkpoint {number + 1} is missing (deleted)"
                if checkpoint.number == number + 2
                else f"checkpoints {number + 1}-{checkpoint.number - 1} are missing (deleted)",
            )
        if checkpoint.last_seq < seq:
            report.add(
                checkpoint.number,
                "checkpoint",
                f"checkpoint {checkpoint.number} signs entry {checkpoint.last_seq}, before"
                f" the one its predecessor signed ({seq})",
            )
        if verifier is not None:
            if checkpoint.key_id != verifier.key_id:
                report.add(
                    checkpoint.number,
                    "signature",
                    f"checkpoint {checkpoint.number} (entry {checkpoint.last_seq}) names key"
                    f" {checkpoint.key_id}, not the key given ({verifier.key_id})",
                )
            elif not verifier.verify(checkpoint):
                report.add(
                    checkpoint.number,
                    "signature",
                    f"checkpoint {checkpoint.number} (entry {checkpoint.last_seq}) has a bad"
                    " signature: it was altered after it was signed",
                )
        number, seq = checkpoint.number, checkpoint.last_seq


def _check_head(
    report: Report, head: Head | None, last: Row | None, checkpoints: list[Checkpoint]
) -> None:
    if head is None:
        report.add(report.last_seq, "missing", "the log's head row is missing (deleted)")
        return
    end = last.seq if last is not None else 0
    if head.last_seq > end:
        report.add(
            end + 1,
            "missing",
            f"the log's head says it reached entry {head.last_seq}:"
            f" {_missing(end + 1, head.last_seq)} from the end",
        )
    elif last is not None and (head.last_seq, head.last_hash) != (last.seq, last.hash):
        report.add(
            end,
            "rewritten",
            f"the log's head (entry {head.last_seq}) does not match its last entry ({end}):"
            " the end of the log was changed",
        )
    signed = checkpoints[-1].number if checkpoints else 0
    if head.checkpoint_number > signed:
        report.add(
            signed + 1,
            "checkpoint",
            f"the log's head says checkpoint {head.checkpoint_number} was signed, but the last"
            f" one is {signed}: the later ones are missing (deleted)",
        )


class _Index:
    """The subject index, read alongside the entries (both by seq)."""

    def __init__(self, rows: Iterator[tuple[int, str]]) -> None:
        self._rows = rows
        self._next: tuple[int, str] | None = next(rows, None)

    def take(self, seq: int) -> list[str]:
        """The subjects listed for ``seq`` (those of deleted entries skipped)."""
        found = []
        while self._next is not None and self._next[0] <= seq:
            if self._next[0] == seq:
                found.append(self._next[1])
            self._next = next(self._rows, None)
        return found
