"""МВД vehicle registration, a REST/JSON API (``adapters/openapi/vehicles.json``).

The registry indexes vehicles, not people: an owner it has never seen simply
owns nothing, so ``list_vehicles_by_owner`` answers an empty list; an unknown
plate or VIN is a business "not found" (HTTP 404 with a problem body).
"""

from importlib.resources import files

from regbus.adapters.kinds import IIN, PLATE, VIN
from regbus.adapters.spec import Into, Operation, Param, Registry, Rest, Sample

VEHICLE = {
    "plate": "plate",
    "vin": "vin",
    "make": "make",
    "model": "model",
    "year": "year",
    "colour": "colour?",
    "owner_iin": "owner.iin",
    "registered_on": "registeredOn",
    "status": "status?",
}

VEHICLES = Registry(
    registry="vehicles",
    name="Vehicle registration (MVD)",
    wire=Rest(openapi=files("regbus.adapters") / "openapi" / "vehicles.json"),
    operations=(
        Operation(
            "get_vehicle",
            (Param("plate", PLATE, required=False), Param("vin", VIN, required=False)),
            one_of=("plate", "vin"),
            call="GET /vehicles",
            record=Into("vehicle", VEHICLE),
            echo={"plate": "plate", "vin": "vin"},
            sample=Sample(
                {"plate": "123ABC01"}, unknown={"plate": "999ZZZ01"}, other={"plate": "777KZA09"}
            ),
        ),
        Operation(
            "list_vehicles_by_owner",
            (Param("iin", IIN),),
            call="GET /owners/{iin}/vehicles",
            record=Into("vehicles", VEHICLE, each="items"),
            echo={"iin": "owner_iin"},
            sample=Sample({"iin": "850314354052"}, other={"iin": "771130308916"}),
        ),
    ),
)
