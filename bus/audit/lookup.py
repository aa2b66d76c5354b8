"""Who looked a person up: the entries about one IIN (or BIN), for
``regbus audit subject IIN``.

    for lookup in lookups(store, "771130308916"):
        print(lookup.time, lookup.client, lookup.purpose)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from regbus.bus.audit.store import Store
from regbus.bus.audit.verify import intact


@dataclass(frozen=True)
class Lookup:
    seq: int
    time: str
    client: str
    operator: str
    purpose: str
    case_number: str
    registry: str
    operation: str
    outcome: str
    reason: str
    request_id: str
    intact: bool  # False: the entry no longer matches its hash (run regbus audit verify)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def lookups(store: Store, subject: str) -> list[Lookup]:
    """Every entry about ``subject``, oldest first."""
    found = []
    for row in store.about(subject):
        f = row.fields
        found.append(
            Lookup(
                row.seq,
                f["time"],
                f["client"],
                f["operator"],
                f["purpose"],
                f["case_number"],
                f["registry"],
                f["operation"],
                f["outcome"],
                f["reason"],
                f["request_id"],
                intact(row),
            )
        )
    return found
