"""Technical inspection (техосмотр), a REST/JSON API (``adapters/openapi/inspection.json``).

By plate or VIN (exactly one): the vehicle's latest inspection certificate, with
its result, station and how long it is valid. A vehicle without a certificate on
record (or one the registry never saw) is a business "not found" (HTTP 404).
Public data: no person is named.
"""

from importlib.resources import files

from regbus.adapters.kinds import PLATE, VIN
from regbus.adapters.spec import Into, Operation, Param, Registry, Rest, Sample

CERTIFICATE = {
    "certificate_number": "certificateNumber",
    "plate": "vehicle.plate",
    "vin": "vehicle.vin",
    "inspected_on": "inspectedOn",
    "valid_to": "validUntil",
    "result": "result",
    "station": "station.name",
    "status": "status",
}

INSPECTION = Registry(
    registry="inspection",
    name="Technical inspection",
    wire=Rest(openapi=files("regbus.adapters") / "openapi" / "inspection.json"),
    sensitivity=("public",),
    operations=(
        Operation(
            "get_inspection",
            (Param("plate", PLATE, required=False), Param("vin", VIN, required=False)),
            one_of=("plate", "vin"),
            call="GET /certificates/latest",
            record=Into("inspection", CERTIFICATE),
            echo={"plate": "plate", "vin": "vin"},
            sample=Sample(
                {"plate": "123ABC01"}, unknown={"plate": "999ZZZ01"}, other={"plate": "777KZA09"}
            ),
        ),
    ),
)
