"""ГБД ЮЛ, the state database of legal entities, behind ШЭП SyncChannel.

Service ``GBDUL_ENTITY_INFO``; payload schema ``adapters/soap/wsdl/gbdul.xsd``. Public
facts: an entity by BIN with its heads (``get_entity``), or only its heads
(``get_entity_heads``); a BIN the database does not know is not found.
"""

from collections.abc import Mapping

from regbus.adapters.kinds import BIN
from regbus.adapters.mapping import to_record
from regbus.adapters.spec import Into, Nested, Operation, Param, Registry, Sample, Shep, Status
from regbus.adapters.views import View
from regbus.v1 import records_pb2

STATUS = Status(
    "resultCode",
    not_found=("ENTITY_NOT_FOUND",),
    rejected=("INVALID_REQUEST", "ACCESS_DENIED"),
    message="resultMessage",
)
HEAD = {"iin": "iin", "full_name": "fullName", "position": "position", "since": "since"}
DALA, BANK, NEVER_ISSUED = "150540001233", "071140982575", "941240000004"
HEADS = Into("entity_heads", HEAD, each="heads/head")


def heads_of_the_bin_asked(view: View, params: Mapping[str, str]) -> records_pb2.Record:
    """The heads, once the answer names the BIN asked for: EntityHeadList has no field
    for the BIN to echo it into, so an answer about another entity is caught here."""
    named = view.text("bin")
    if named != params["bin"]:
        raise ValueError(f"the answer is about BIN {named!r:.40}, not {params['bin']}")
    return to_record(HEADS, view, params)


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
            record=HEADS,
            handler=heads_of_the_bin_asked,  # the record's mapping, the BIN checked first
            sample=Sample({"bin": DALA}, unknown={"bin": NEVER_ISSUED}, other={"bin": BANK}),
        ),
    ),
)
