"""Property tests of the audit chain (regbus.bus.audit): any entries, whatever text their
fields hold, are written, read back as written and verify; any single change to a stored
entry (one character of one column edited, the entry deleted, two entries swapped) is
found, and the entry it touched is named.

Each example writes to a SQLite log in memory through the store the bus uses, with
checkpoints signed by a real key, and tampers through the same connection, around the
store as someone with the database in hand would.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from regbus.bus.audit.entry import GENESIS, Entry, chain_hash, seal
from regbus.bus.audit.settings import MEMORY
from regbus.bus.audit.signing import Signer, Verifier, load_signer, load_verifier
from regbus.bus.audit.sqlite import SqliteStore
from regbus.bus.audit.store import COLUMNS, ENTRIES
from regbus.bus.audit.verify import hashed_fields, verify
from tests.fuzzing import examples, iins

TEXT = st.one_of(
    st.text(max_size=16),
    st.sampled_from(["", "\x00", "\n", '"', "\\", "}", "\u2028", "\U0001f600", "é", "\u0435"]),
    # Around the cut at MAX_TEXT, cheaply (a long random text is a lot of entropy).
    st.tuples(st.characters(codec="utf-8"), st.integers(1020, 1030)).map(lambda c: c[0] * c[1]),
)
PARAMS = st.dictionaries(
    st.one_of(st.text(max_size=12), st.integers(60, 70).map(lambda n: "k" * n)),
    st.one_of(TEXT, iins(), st.from_regex(r"[0-9]{12}", fullmatch=True)),
    max_size=5,
)
ENTRIES_ = st.builds(
    Entry,
    time=st.floats(min_value=0, max_value=4e9),
    client=TEXT,
    operator=TEXT,
    purpose=TEXT,
    case_number=TEXT,
    registry=TEXT,
    operation=TEXT,
    params=PARAMS,
    outcome=TEXT,
    reason=TEXT,
    request_id=TEXT,
)
# Entries as the writer commits them: a few batches of a few.
BATCHES = st.lists(st.lists(ENTRIES_, min_size=1, max_size=3), min_size=1, max_size=4)
EDITABLE = [c for c in COLUMNS if c != "seq"]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Signer, Verifier]:
    path = tmp_path_factory.mktemp("audit-keys") / "audit.key"
    signer, created = load_signer(path)
    assert created
    return signer, load_verifier(path)


@contextlib.contextmanager
def written(
    batches: list[list[Entry]], signer: Signer, every: int
) -> Iterator[tuple[SqliteStore, list[Entry]]]:
    """A new log in memory holding ``batches``, a checkpoint signed every ``every``."""
    store = SqliteStore(MEMORY, checkpoint_every=every)
    store.signer = signer
    try:
        store.open()
        entries: list[Entry] = []
        for n, batch in enumerate(batches):
            first = store.append(batch, 1.7e9 + n)
            assert first == len(entries) + 1
            entries += batch
        yield store, entries
    finally:
        store.close()


@examples(150)
@given(
    entry=ENTRIES_, prev=st.one_of(st.just(GENESIS), st.from_regex(r"[0-9a-f]{64}", fullmatch=True))
)
def test_the_writers_encoding_is_the_canonical_one(entry: Entry, prev: str) -> None:
    sealed = seal(entry, prev)
    assert sealed.hash == chain_hash(entry.fields(), prev)
    assert sealed.values[-2:] == (prev, sealed.hash)


@examples(60)
@given(batches=BATCHES, every=st.integers(1, 6))
def test_any_entries_read_back_as_written_and_verify(
    keys: tuple[Signer, Verifier], batches: list[list[Entry]], every: int
) -> None:
    signer, verifier = keys
    with written(batches, signer, every) as (store, entries):
        rows = list(store.rows())
        assert [row.seq for row in rows] == list(range(1, len(entries) + 1))
        prev = GENESIS
        for row, entry in zip(rows, entries, strict=True):
            assert hashed_fields(row) == entry.fields()
            assert row.prev_hash == prev and row.hash == chain_hash(entry.fields(), prev)
            prev = row.hash
            for subject in entry.fields()["subjects"]:
                assert row.seq in [found.seq for found in store.about(subject)]
        report = verify(store, verifier)
        assert report.ok, report.problems
        assert report.entries == len(entries) and report.last_seq == len(entries)


@examples(120)
@given(
    batches=BATCHES,
    every=st.integers(1, 6),
    how=st.sampled_from(["edit", "delete", "swap"]),
    which=st.floats(0, 1, exclude_max=True),
    other=st.floats(0, 1, exclude_max=True),
    column=st.sampled_from(EDITABLE),
    at=st.floats(0, 1, exclude_max=True),
    char=st.characters(codec="utf-8"),
)
def test_any_single_change_is_found_and_named(
    keys: tuple[Signer, Verifier],
    batches: list[list[Entry]],
    every: int,
    how: str,
    which: float,
    other: float,
    column: str,
    at: float,
    char: str,
) -> None:
    """``which`` (and ``other``, for a swap) pick entries, ``at`` the place of the edited
    character in ``column``."""
    signer, verifier = keys
    total = sum(len(batch) for batch in batches)
    seq, second = 1 + int(which * total), 1 + int(other * total)
    assume(how != "swap" or second != seq)
    with written(batches, signer, every) as (store, _):
        db = store.conn
        if how == "edit":
            query = f"SELECT {column} FROM {ENTRIES} WHERE seq = ?"
            (value,) = db.execute(query, (seq,)).fetchone()
            i = int(at * len(value))
            assume(value[i : i + 1] != char)
            edited = value[:i] + char + value[i + 1 :]
            db.execute(f"UPDATE {ENTRIES} SET {column} = ? WHERE seq = ?", (edited, seq))
        elif how == "delete":
            db.execute(f"DELETE FROM {ENTRIES} WHERE seq = ?", (seq,))
        else:
            names, assign = ", ".join(EDITABLE), ", ".join(f"{n} = ?" for n in EDITABLE)
            query = f"SELECT {names} FROM {ENTRIES} WHERE seq = ?"
            one, two = (db.execute(query, (n,)).fetchone() for n in (seq, second))
            db.execute(f"UPDATE {ENTRIES} SET {assign} WHERE seq = ?", (*two, seq))
            db.execute(f"UPDATE {ENTRIES} SET {assign} WHERE seq = ?", (*one, second))
        report = verify(store, verifier)
    assert not report.ok, f"{how} of entry {seq} ({column}) went unnoticed"
    touched = {seq, second} if how == "swap" else {seq}
    assert {problem.seq for problem in report.problems} & touched, (how, report.problems)
