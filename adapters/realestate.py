"""GBD RN, the state real-estate register: the register's own SOAP 1.1 document/literal
service (WSDL ``adapters/soap/wsdl/realestate.wsdl``).

``list_property`` by owner (an IIN or a BIN): every property the owner holds, each
``encumbered`` when an encumbrance names it. An owner holding nothing gets an empty
list, not "not found": the register indexes property, not people, and cannot tell an
IIN it never saw from one that owns nothing.

``list_encumbrances`` by exactly one of a cadastral number or an owner: the mortgages
and arrests on that property, or on every property the owner holds (none is an empty
list). A cadastral number the register does not hold is a Client fault coded
``PROPERTY_NOT_FOUND``.
"""

from regbus.adapters.kinds import IIN_OR_BIN, pattern
from regbus.adapters.spec import Faults, Into, Operation, Param, Registry, Sample, Soap

# Region (as on plates), district, block, parcel and the unit: a flat, 1 for a house, C
# for commercial premises.
CADASTRAL = pattern(
    "cadastral_number",
    r"[0-9]{2}:[0-9]{3}:[0-9]{3}:[0-9]{3}:([0-9]{1,4}|C)",
    like="02:101:023:045:34",
)
GULNARA = "690214412868"  # owns an apartment under an arrest
APARTMENT = "02:101:023:045:34"

REALESTATE = Registry(
    registry="realestate",
    name="State real-estate register (GBD RN)",
    wire=Soap(
        wsdl="realestate.wsdl",
        faults=Faults("ServiceFault", not_found=("PROPERTY_NOT_FOUND",)),
    ),
    operations=(
        Operation(
            "list_property",
            (Param("owner", IIN_OR_BIN),),
            call="ListProperty",
            record=Into(
                "properties",
                {
                    "cadastral_number": "cadastralNumber",
                    "kind": "kind",
                    "address_code": "addressCode",
                    "area": "area",
                    "rooms": "rooms",
                    "owner": "owner",
                    "acquired_on": "acquiredOn",
                    "encumbered": "encumbered",
                },
                each="property",
            ),
            echo={"owner": "owner"},
            # The other owner is generated (default population): a house on its parcel.
            sample=Sample({"owner": GULNARA}, other={"owner": "840103412500"}),
        ),
        Operation(
            "list_encumbrances",
            (
                Param("cadastral_number", CADASTRAL, required=False),
                Param("owner", IIN_OR_BIN, required=False),
            ),
            one_of=("cadastral_number", "owner"),
            call="ListEncumbrances",
            record=Into(
                "encumbrances",
                {
                    "encumbrance_number": "encumbranceNumber",
                    "cadastral_number": "cadastralNumber",
                    "kind": "kind",
                    "holder": "holder",
                    "holder_bin": "holderBin?",
                    "registered_on": "registeredOn",
                    "until": "until?",
                },
                each="encumbrance",
            ),
            echo={"cadastral_number": "cadastral_number"},
            # Region 99 does not exist; the other number is a generated mortgaged house.
            sample=Sample(
                {"cadastral_number": APARTMENT},
                unknown={"cadastral_number": "99:000:000:000:1"},
                other={"cadastral_number": "06:538:935:371:1"},
            ),
        ),
    ),
)
