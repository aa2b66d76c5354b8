"""``regbus audit``: check the log, and tell a person who looked them up.

regbus audit verify [--config FILE]... [--public-key FILE] [--anchor SEQ:HASH]... [--json]
regbus audit subject IIN [--config FILE]... [--json]

Both read the store of the configuration ``regbus serve`` would run with (the files,
then the ``REGBUS_*`` variables). ``verify`` exits 0 when the log is intact, 1 naming
what is wrong, 2 when it cannot check (no log, no key).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from regbus.bus.audit.errors import AuditError
from regbus.bus.audit.settings import AuditSettings
from regbus.bus.config import load_layers

if TYPE_CHECKING:  # the rest (cryptography, the drivers) only when a command runs
    from regbus.bus.audit.signing import Verifier
    from regbus.bus.audit.store import Store

MAX_CELL = 40


def add_audit_commands(sub: Any) -> None:
    """``regbus audit ...`` under the command line's subparsers ``sub``."""
    audit = sub.add_parser(
        "audit",
        help="the audit log: verify it, or list who looked a person up",
        description="Every call through the bus is recorded in a hash-chained log with"
        " signed checkpoints ([audit] in the configuration).",
    )
    actions = audit.add_subparsers(required=True, metavar="ACTION")
    check = actions.add_parser(
        "verify",
        help="check that no entry was edited, deleted or reordered",
        description="Read the whole audit log and check every entry against its hash and"
        " the one before, the subject index, the signed checkpoints and the head. Exit 0"
        " when intact; 1 naming the first bad entry; 2 when it cannot be checked.",
    )
    _config(check)
    check.add_argument(
        "--public-key",
        type=Path,
        metavar="FILE",
        help="the key the checkpoints were signed with (PEM, public or private; default:"
        " [audit] key_file, or that file with .pub)",
    )
    check.add_argument(
        "--anchor",
        type=_anchor,
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="an entry and its hash recorded elsewhere (a checkpoint's log line): it must"
        " still be there, unchanged; repeatable",
    )
    check.add_argument("--json", action="store_true", help="the report as JSON")
    check.set_defaults(run=_verify)

    subject = actions.add_parser(
        "subject",
        help="who looked a person up: every call about an IIN or BIN",
        description="Every call about one IIN or BIN: when, which client and operator,"
        " for what purpose and case, which registry operation, and how it ended.",
    )
    subject.add_argument("subject", metavar="IIN", help="an IIN or BIN (12 digits)")
    _config(subject)
    subject.add_argument("--json", action="store_true", help="one JSON object per lookup")
    subject.set_defaults(run=_subject)


def _config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        action="append",
        metavar="FILE",
        help="the bus's TOML configuration ([audit] store, key_file); repeatable",
    )


def _anchor(text: str) -> tuple[int, str]:
    seq, sep, digest = text.partition(":")
    if not (sep and seq.isdigit() and len(digest) == 64):
        raise argparse.ArgumentTypeError(f"must be SEQ:HASH (a 64-digit hex hash), got {text!r}")
    return int(seq), digest.lower()


def _settings(args: argparse.Namespace) -> AuditSettings:
    return load_layers(args.config or [], os.environ).audit


def _attached(settings: AuditSettings) -> Store:
    from regbus.bus.audit.store import open_store

    store = open_store(settings)
    store.attach()
    return store


def _verify(args: argparse.Namespace) -> int:
    from regbus.bus.audit.verify import verify

    settings = _settings(args)
    try:
        store = _attached(settings)
        try:
            verifier = _verifier(args.public_key, settings.key_path(), store)
            report = verify(store, verifier, anchors=args.anchor)
        finally:
            store.close()
    except AuditError as exc:
        print(f"regbus: cannot verify the audit log: {exc}", file=sys.stderr)
        return 2
    if args.json:
        body = {
            "store": report.location,
            "intact": report.ok,
            "entries": report.entries,
            "first_seq": report.first_seq,
            "last_seq": report.last_seq,
            "checkpoints": len(report.checkpoints),
            "last_checkpoint_seq": report.checkpoints[-1].last_seq if report.checkpoints else 0,
            "key_id": report.key_id,
            "problems": [{"seq": p.seq, "kind": p.kind, "text": p.text} for p in report.problems],
            "more_problems": report.more_problems,
        }
        print(json.dumps(body, indent=2))
    else:
        print(report.summary())
        for problem in report.problems[1:]:
            print(f"  also: {problem.text}")
        if report.more_problems:
            print(f"  and {report.more_problems} more")
    return 0 if report.ok else 1


def _verifier(given: Path | None, key_file: Path, store: Store) -> Verifier | None:
    """The key to check signatures with: ``--public-key``, the key file, or its ``.pub``;
    None when there is none and nothing was signed yet."""
    from regbus.bus.audit.signing import load_verifier, public_path

    if given is not None:
        return load_verifier(given)
    for path in (key_file, public_path(key_file)):
        if path.is_file():
            return load_verifier(path)
    if store.checkpoints():
        raise AuditError(
            f"no key to check the checkpoints' signatures with: neither {key_file} nor"
            f" {public_path(key_file).name} exists ([audit] key_file, or --public-key FILE)"
        )
    return None


def _subject(args: argparse.Namespace) -> int:
    from regbus.bus.audit.lookup import lookups

    subject = args.subject
    if not (len(subject) == 12 and subject.isascii() and subject.isdigit()):
        print(f"regbus: {subject!r} is not an IIN or BIN (12 digits)", file=sys.stderr)
        return 2
    try:
        store = _attached(_settings(args))
        try:
            found = lookups(store, subject)
        finally:
            store.close()
    except AuditError as exc:
        print(f"regbus: cannot read the audit log: {exc}", file=sys.stderr)
        return 2
    if args.json:
        for lookup in found:
            print(json.dumps(lookup.as_dict(), ensure_ascii=False))
        return 0
    if not found:
        print(f"no calls about {subject} in the audit log {store.location}")
        return 0
    print(f"{subject}: {len(found)} call(s) in the audit log {store.location}\n")
    rows = [("when (UTC)", "client", "operator", "purpose", "case", "call", "outcome")]
    for lookup in found:
        outcome = lookup.outcome + (f" {lookup.reason}" if lookup.reason else "")
        rows.append(
            (
                lookup.time[:19].replace("T", " ") + ("" if lookup.intact else " !"),
                _cell(lookup.client),
                _cell(lookup.operator),
                _cell(lookup.purpose),
                _cell(lookup.case_number),
                _cell(f"{lookup.registry}.{lookup.operation}"),
                _cell(outcome),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    if not all(lookup.intact for lookup in found):
        print("\n! this entry no longer matches its hash: run regbus audit verify")
    return 0


def _cell(text: str) -> str:
    """A caller's text as one table cell: control characters shown escaped, long text cut."""
    shown = text if text.isprintable() else json.dumps(text, ensure_ascii=False)[1:-1]
    shown = shown or "-"
    return shown if len(shown) <= MAX_CELL else shown[: MAX_CELL - 1] + "…"
