"""One audit entry, its canonical encoding and the hash that chains it to the one before.

    fields = Entry.of(context, "gbdfl", "get_person", {"iin": "771130308916"}, "none", "ok",
                      time.time()).fields()
    digest = chain_hash(fields, previous_hash)

An entry's fields are plain JSON values (text, a table of parameters, a list of subjects),
so nothing a caller sends can be read back as another field or another entry. The
canonical encoding is JSON with sorted keys, no spaces and every character outside ASCII
escaped, of the fields plus ``prev`` (the hash of the entry before, ``GENESIS`` for the
first); an entry's hash is the SHA-256 of it, in hex.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Mapping
from json.encoder import encode_basestring_ascii as _q  # C, as json.dumps uses it
from typing import Any, NamedTuple

from regbus.adapters.base import CallContext

GENESIS = "0" * 64  # the "hash before" of the first entry
# A caller's text is kept up to this many characters (the rest is cut, and the cut said).
MAX_TEXT = 1024
MAX_PARAMS = 32
CUT = "…"  # the parameter that says how many more there were
MAX_NAME = 64
# The fields of an entry, as they are named in the canonical encoding and in the tables.
FIELDS = (
    "time",
    "client",
    "operator",
    "purpose",
    "case_number",
    "registry",
    "operation",
    "params",
    "subjects",
    "outcome",
    "reason",
    "request_id",
)
TEXT_FIELDS = tuple(name for name in FIELDS if name not in ("params", "subjects"))


class Entry(NamedTuple):
    """One call as the bus saw it: who, why, what, about whom, and how it ended."""

    time: float  # wall-clock seconds when the call came in
    client: str
    operator: str
    purpose: str
    case_number: str
    registry: str
    operation: str
    params: Mapping[str, str]
    outcome: str  # "ok", or the error's class: invalid, denied, business, registry, ...
    reason: str  # the error's reason (INVALID_IIN, NOT_FOUND, ...); "" when ok
    request_id: str

    @classmethod
    def of(
        cls,
        context: CallContext,
        registry: str,
        operation: str,
        params: Mapping[str, str],
        error_class: str,
        outcome: str,
        at: float,
    ) -> Entry:
        """The entry of one router call: ``error_class`` is "none" for an answer, and
        ``outcome`` the router's (the error's reason in lower case)."""
        ok = error_class == "none"
        kept = dict(itertools.islice(params.items(), MAX_PARAMS))  # a caller may send 100,000
        if len(params) > MAX_PARAMS:
            kept[CUT] = f"[{len(params) - MAX_PARAMS} more parameters]"
        return cls(
            at,
            context.client_id,
            context.operator_id,
            context.purpose,
            context.case_number,
            registry,
            operation,
            kept,
            "ok" if ok else error_class,
            "" if ok else outcome.upper(),
            context.request_id,
        )

    def bounded_params(self) -> dict[str, str]:
        params = {}
        for name, value in itertools.islice(self.params.items(), MAX_PARAMS + 1):  # with CUT
            params[bounded(str(name), MAX_NAME)] = bounded(str(value))
        return params

    def fields(self) -> dict[str, Any]:
        """The fields as stored and hashed: text bounded, time in ISO 8601 UTC."""
        params = self.bounded_params()
        return {
            "time": iso_time(self.time),
            "client": bounded(self.client),
            "operator": bounded(self.operator),
            "purpose": bounded(self.purpose),
            "case_number": bounded(self.case_number),
            "registry": bounded(self.registry),
            "operation": bounded(self.operation),
            "params": params,
            "subjects": subjects_of(params),
            "outcome": bounded(self.outcome),
            "reason": bounded(self.reason),
            "request_id": bounded(self.request_id),
        }


class Sealed(NamedTuple):
    """An entry ready for its table: its column values in ``store.COLUMNS`` order, less
    the seq; its subjects; its hash."""

    values: tuple[str, ...]
    subjects: list[str]
    hash: str


def seal(entry: Entry, prev: str) -> Sealed:
    """``entry`` encoded and hashed after ``prev``: what ``fields`` and ``chain_hash`` give,
    written out by hand (the writer's hot loop; a test holds the two equal)."""
    params = entry.bounded_params()
    params_text = "{" + ",".join(f"{_q(k)}:{_q(v)}" for k, v in sorted(params.items())) + "}"
    subjects = subjects_of(params)
    subjects_text = "[" + ",".join(f'"{s}"' for s in subjects) + "]"  # digits only
    time_text = iso_time(entry.time)
    client = bounded(entry.client)
    operator = bounded(entry.operator)
    purpose = bounded(entry.purpose)
    case_number = bounded(entry.case_number)
    registry = bounded(entry.registry)
    operation = bounded(entry.operation)
    outcome = bounded(entry.outcome)
    reason = bounded(entry.reason)
    request_id = bounded(entry.request_id)
    # The keys in sorted order, as json.dumps(sort_keys=True) writes them.
    text = (
        f'{{"case_number":{_q(case_number)},"client":{_q(client)},'
        f'"operation":{_q(operation)},"operator":{_q(operator)},"outcome":{_q(outcome)},'
        f'"params":{params_text},"prev":{_q(prev)},"purpose":{_q(purpose)},'
        f'"reason":{_q(reason)},"registry":{_q(registry)},"request_id":{_q(request_id)},'
        f'"subjects":{subjects_text},"time":{_q(time_text)}}}'
    )
    digest = hashlib.sha256(text.encode("ascii")).hexdigest()
    values = (
        time_text,
        client,
        operator,
        purpose,
        case_number,
        registry,
        operation,
        params_text,
        subjects_text,
        outcome,
        reason,
        request_id,
        prev,
        digest,
    )
    return Sealed(values, subjects, digest)


def bounded(text: str, limit: int = MAX_TEXT) -> str:
    """``text``, cut to ``limit`` characters with a note of how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[{len(text) - limit} more characters]"


def subjects_of(params: Mapping[str, str]) -> list[str]:
    """The people and organisations a call is about: every parameter value of twelve
    ASCII digits (an IIN or a BIN, valid or not), sorted, each once."""
    return sorted({v for v in params.values() if len(v) == 12 and v.isascii() and v.isdigit()})


def iso_time(seconds: float) -> str:
    """Wall-clock seconds as ``2026-03-01T10:00:00.123456Z``."""
    global _last_second
    whole, micro = divmod(round(seconds * 1_000_000), 1_000_000)
    last = _last_second  # one read: other threads may replace it meanwhile
    if last[0] != whole:
        last = _last_second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))
    return f"{last[1]}.{micro:06d}Z"


_last_second: tuple[int, str] = (-1, "")  # the whole second last written, and its text


def dumps(value: Any) -> str:
    """The canonical JSON of ``value``: sorted keys, no spaces, ASCII only."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def canonical(fields: Mapping[str, Any], prev: str) -> bytes:
    """The bytes an entry's hash is taken of."""
    return dumps({**fields, "prev": prev}).encode("ascii")


def chain_hash(fields: Mapping[str, Any], prev: str) -> str:
    """The hash of an entry whose predecessor's hash is ``prev``."""
    return hashlib.sha256(canonical(fields, prev)).hexdigest()
