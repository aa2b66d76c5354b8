"""E-health records, a REST/JSON API (``adapters/openapi/health.json``).

By IIN: the person's summary, namely the polyclinic they are attached to and
since when, the disability group if any, and the vaccinations on record. No
diagnoses. A person with no e-health record is a business "not found" (HTTP 404
with a problem body).
"""

from importlib.resources import files

from regbus.adapters.kinds import IIN
from regbus.adapters.spec import Into, Nested, Operation, Param, Registry, Rest, Sample, Source

SUMMARY: dict[str, Source] = {
    "iin": "iin",
    "clinic": "attachment.clinic",
    "attached_on": "attachment.attachedOn",
    "disability_group": "disabilityGroup?",
    "vaccinations": Nested({"vaccine": "vaccine", "date": "date"}, each="vaccinations"),
}

HEALTH = Registry(
    registry="health",
    name="E-health records",
    wire=Rest(openapi=files("regbus.adapters") / "openapi" / "health.json"),
    sensitivity=("medical", "restricted"),
    operations=(
        Operation(
            "get_summary",
            (Param("iin", IIN),),
            call="GET /patients/{iin}/summary",
            record=Into("health", SUMMARY),
            echo={"iin": "iin"},
            sample=Sample(
                {"iin": "850314354052"},
                unknown={"iin": "940512410508"},
                other={"iin": "771130308916"},
            ),
        ),
    ),
)
