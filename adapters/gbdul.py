"""ГБД ЮЛ, the state database of legal entities, behind ШЭП SyncChannel.

Service ``GBDUL_ENTITY_INFO``; payload schema ``adapters/soap/wsdl/gbdul.xsd``. Public
facts: an entity by BIN with its heads (``get_entity``), or only its heads
(``get_entity_heads``); a BIN the database does not know is not found.
"""

from regbus.adapters.kinds import BIN
from regbus.adapters.spec import Into, Nested, Operation, Param, Registry, Sample, Shep, Status

STATUS = Status(
    "resultCode",
    not_found=("ENTITY_NOT_FOUND",),
    rejected=("INVALID_REQUEST", "ACCESS_DENIED"),
    message="resultMessage",
)
HEAD = {"iin": "iin", "full_name": "fullName", "position": "position", "since": "since"}
DALA, BANK, NEVER_ISSUED = "150540001233", "071140982575", "941240000004"

GBDUL = Registry(
    registry="gbdul",
    name="State database of legal entities (GBD UL)",
    wire=Shep(service_id="GBDUL_ENTITY_INFO", payload="gbdul.xsd"),
    sensitivity=("public",),
    operations=(
        Operation(
            "get_entity",
            (Param("bin", BIN),),
            call="EntityRequest",
            status=STATUS,
            record=Into(
                "entity",
                {
                    "bin": "bin",
                    "name": "name",
                    "legal_form": "legalForm",
                    "registered_on": "registeredOn",
                    "city": "city",
                    "address_code": "addressCode?",
                    "activity": "activity?",
                    "status": "status",
                    "liquidated_on": "liquidatedOn?",
                    "heads": Nested(HEAD, each="heads/head"),
                },
                at="entity",
            ),
            echo={"bin": "bin"},
            sample=Sample({"bin": DALA}, unknown={"bin": NEVER_ISSUED}, other={"bin": BANK}),
        ),
        Operation(
            "get_entity_heads",
            (Param("bin", BIN),),
            call="EntityHeadsRequest",
            status=STATUS,
            # EntityHeadList has no field for the BIN, so nothing to echo it into.
            record=Into("entity_heads", HEAD, each="heads/head"),
            sample=Sample({"bin": DALA}, unknown={"bin": NEVER_ISSUED}),
        ),
    ),
)
