"""ЕСБД, compulsory motor insurance, through an X-Road 4.0 security server.

WSDL ``adapters/soap/wsdl/insurance.wsdl``. By plate: the current policy (an
unknown plate is a ``POLICY_NOT_FOUND`` fault); by IIN: every policy the
person holds, newest first (none is an empty list).
"""

from regbus.adapters.kinds import IIN, PLATE
from regbus.adapters.spec import Faults, Into, Operation, Param, Registry, Sample, XRoad

INSURANCE = Registry(
    registry="insurance",
    name="Compulsory motor insurance (ESBD)",
    wire=XRoad(
        wsdl="insurance.wsdl",
        faults=Faults(
            "ServiceFault", not_found=("POLICY_NOT_FOUND",), rejected=("INVALID_REQUEST",)
        ),
    ),
    operations=(
        Operation(
            "get_policy",
            (Param("plate", PLATE, required=False), Param("iin", IIN, required=False)),
            one_of=("plate", "iin"),
            call="GetPolicy",
            record=Into(
                "policies",
                {
                    "policy_number": "policyNumber",
                    "insurer": "insurer",
                    "plate": "plate",
                    "vin": "vin?",
                    "holder_iin": "holderIin",
                    "valid_from": "validFrom",
                    "valid_to": "validTo",
                    "status": "status",
                },
                each="policy",
            ),
            echo={"plate": "plate", "iin": "holder_iin"},
            sample=Sample(
                {"plate": "123ABC01"}, unknown={"plate": "999ZZZ01"}, other={"plate": "777KZA09"}
            ),
        ),
    ),
)
