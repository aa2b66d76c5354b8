"""ЕРАП administrative offences (e-fines), a REST/JSON API (``adapters/openapi/fines.json``).

By the offender's IIN or by plate (exactly one): every fine, newest first. The
registry indexes offences, not people or vehicles: a subject without fines
answers an empty list, never "not found". The wire says ``paid: true/false``;
the record says ``FINE_STATUS_PAID``/``UNPAID``.
"""

from collections.abc import Mapping
from importlib.resources import files

from regbus.adapters.kinds import IIN, PLATE
from regbus.adapters.spec import Into, Operation, Param, Registry, Rest, Sample, Source
from regbus.adapters.views import View


def _status(view: View, params: Mapping[str, str]) -> str:
    paid = view.get("paid")
    if type(paid) is not bool:
        raise ValueError(f"paid: expected true or false, got {paid!r:.40}")
    return "PAID" if paid else "UNPAID"


FINE: dict[str, Source] = {
    "fine_number": "number",
    "iin": "offender.iin",
    "plate": "plate?",
    "article": "article",
    "description": "description",
    "amount": "amount",
    "issued_on": "issuedOn",
    "status": _status,
    "paid_on": "paidOn?",
}

FINES = Registry(
    registry="fines",
    name="Administrative offences (ERAP e-fines)",
    wire=Rest(openapi=files("regbus.adapters") / "openapi" / "fines.json"),
    sensitivity=("personal",),
    operations=(
        Operation(
            "list_fines",
            (Param("iin", IIN, required=False), Param("plate", PLATE, required=False)),
            one_of=("iin", "plate"),
            call="GET /fines",
            record=Into("fines", FINE, each="items"),
            echo={"iin": "iin", "plate": "plate"},
            # The other subject is a generated person with fines (default population).
            sample=Sample({"iin": "850314354052"}, other={"iin": "840103412500"}),
        ),
    ),
)
