"""МВД driver licences, a REST/JSON API (``adapters/openapi/licences.json``).

By IIN: the person's licence with its categories and status (valid, expired,
revoked, suspended); a person who holds no licence is a business "not found"
(HTTP 404 with a problem body).
"""

from importlib.resources import files

from regbus.adapters.kinds import IIN
from regbus.adapters.spec import Into, Operation, Param, Registry, Rest, Sample

LICENCE = {
    "iin": "iin",
    "number": "number",
    "categories": "categories",
    "status": "status",
    "issued_on": "issuedOn",
    "valid_to": "validTo",
    "revoked_on": "revokedOn?",
    "revocation_reason": "revocationReason?",
}

LICENCES = Registry(
    registry="licences",
    name="Driver licences (MVD)",
    wire=Rest(openapi=files("regbus.adapters") / "openapi" / "licences.json"),
    sensitivity=("personal",),
    operations=(
        Operation(
            "get_licence",
            (Param("iin", IIN),),
            call="GET /licences/{iin}",
            record=Into("licence", LICENCE),
            echo={"iin": "iin"},
            sample=Sample(
                {"iin": "850314354052"},
                unknown={"iin": "940512410508"},
                other={"iin": "771130308916"},
            ),
        ),
    ),
)
