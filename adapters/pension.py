"""ЕНПФ pension contributions behind ШЭП SyncChannel.

Service ``ENPF_CONTRIBUTIONS``; payload schema ``adapters/soap/wsdl/pension.xsd``.
``get_contributions`` by IIN: the account's balance and contributions. An account exists
only once a first contribution was paid, so anyone without one (a known person included)
is not found, never an empty account.
"""

from regbus.adapters.kinds import IIN
from regbus.adapters.spec import Into, Nested, Operation, Param, Registry, Sample, Shep, Status

PENSION = Registry(
    registry="pension",
    name="Pension contributions (Unified accumulative pension fund, ENPF)",
    wire=Shep(service_id="ENPF_CONTRIBUTIONS", payload="pension.xsd"),
    operations=(
        Operation(
            "get_contributions",
            (Param("iin", IIN),),
            call="ContributionsRequest",
            status=Status(
                "resultCode",
                not_found=("ACCOUNT_NOT_FOUND",),
                rejected=("INVALID_REQUEST", "ACCESS_DENIED"),
                message="resultMessage",
            ),
            record=Into(
                "pension",
                {
                    "iin": "iin",
                    "balance": "balance",
                    "contributions": Nested(
                        {"period": "period", "amount": "amount", "agent": "agent"},
                        each="contributions/contribution",
                    ),
                },
                at="account",
            ),
            echo={"iin": "iin"},
            sample=Sample(
                {"iin": "690214412868"},
                unknown={"iin": "940512410508"},
                other={"iin": "850314354052"},
            ),
        ),
    ),
)
