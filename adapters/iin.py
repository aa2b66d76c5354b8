"""National register of identification numbers (НРИН) behind ШЭП SyncChannel.

Service ``NRIN_IIN_ASSIGN``; payload schema ``adapters/soap/wsdl/iin.xsd``. One write,
``assign_iin``: a newborn's IIN from its birth act. One act, one IIN: an act that already
has its number (from the register, or from an earlier call under any key) answers that
assignment again, so a repeat with a new key changes nothing. Refused: a key used again
with other act data, data that contradict the act on record, a birth date in the future.
"""

from regbus.adapters.kinds import DATE, KEY, enum, pattern
from regbus.adapters.spec import Into, Operation, Param, Registry, Sample, Shep, Status

BIRTH_ACT = pattern("birth_act", r"BR-[0-9]{4}-[0-9]{7}", like="BR-2026-0011742")
SEX = enum("sex", "MALE", "FEMALE")

IIN = Registry(
    registry="iin",
    name="National register of identification numbers",
    wire=Shep(service_id="NRIN_IIN_ASSIGN", payload="iin.xsd"),
    operations=(
        Operation(
            "assign_iin",
            (
                Param("act_number", BIRTH_ACT),
                Param("birth_date", DATE),
                Param("sex", SEX),
                Param("idempotency_key", KEY),
            ),
            call="IinAssignRequest",
            writes=True,
            idempotency_key="idempotency_key",
            status=Status(
                "resultCode",
                rejected=(
                    "INVALID_REQUEST",
                    "BIRTH_DATE_IN_FUTURE",
                    "ACT_DATA_MISMATCH",
                    "IDEMPOTENCY_KEY_REUSED",
                    "ACCESS_DENIED",
                ),
                message="resultMessage",
            ),
            record=Into(
                "iin_assignment",
                {
                    "iin": "iin",
                    "birth_act_number": "birthActNumber",
                    "assigned_on": "assignedOn",
                    "sex": "sex",
                    "birth_date": "birthDate",
                },
                at="assignment",
            ),
            echo={"act_number": "birth_act_number"},
            # A new act is numbered, never "not found": no unknown subject.
            sample=Sample(
                {
                    "act_number": "BR-2026-0011742",
                    "birth_date": "2026-10-05",
                    "sex": "MALE",
                    "idempotency_key": "contract-suite-0011742",
                },
                other={"act_number": "BR-2026-0990001"},
            ),
        ),
    ),
)
