"""ЕГКН, the unified state land cadastre, a REST/JSON API (``adapters/openapi/land.json``).

By cadastral number or by owner (an IIN or a BIN; exactly one): by number the
one parcel (an unknown number is a business "not found", HTTP 404); by owner
every parcel the owner holds, oldest acquisition first (none is an empty list:
the cadastre indexes parcels, not people).
"""

from importlib.resources import files

from regbus.adapters.kinds import IIN_OR_BIN, pattern
from regbus.adapters.spec import Into, Operation, Param, Registry, Rest, Sample

# Region (as on plates), district, block and parcel: 06:737:553:457.
CADASTRAL = pattern(
    "cadastral_number", r"[0-9]{2}:[0-9]{3}:[0-9]{3}:[0-9]{3}", like="06:737:553:457"
)

PARCEL = {
    "cadastral_number": "cadastralNumber",
    "purpose": "purpose",
    "area_ha": "areaHa",
    "region": "region",
    "owner": "owner.id",
    "acquired_on": "acquiredOn",
}

LAND = Registry(
    registry="land",
    name="Unified state land cadastre (EGKN)",
    wire=Rest(openapi=files("regbus.adapters") / "openapi" / "land.json"),
    sensitivity=("personal",),
    operations=(
        Operation(
            "get_parcel",
            (
                Param("cadastral_number", CADASTRAL, required=False),
                Param("owner", IIN_OR_BIN, required=False),
            ),
            one_of=("cadastral_number", "owner"),
            call="GET /parcels",
            record=Into("parcels", PARCEL, each="items"),
            echo={"cadastral_number": "cadastral_number", "owner": "owner"},
            # The demo subjects hold no land: generated owners (default population). Known
            # and other go by owner: a number's colons travel escaped in the query, where
            # the contract suite's swapping proxy would not find them.
            sample=Sample(
                {"owner": "840103412500"},
                unknown={"cadastral_number": "99:000:000:000"},
                other={"owner": "490723392409"},
            ),
        ),
    ),
)
