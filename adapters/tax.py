"""КГД tax debts behind ШЭП SyncChannel.

Service ``KGD_TAX_DEBT``; payload schema ``adapters/soap/wsdl/tax.xsd``. ``get_debt`` of
a taxpayer by IIN or BIN: a known taxpayer without debts answers total 0 and no items; an
IIN or BIN the committee does not know is not found.
"""

from regbus.adapters.kinds import IIN_OR_BIN
from regbus.adapters.spec import Into, Nested, Operation, Param, Registry, Sample, Shep, Status

TAX = Registry(
    registry="tax",
    name="Tax debts (State Revenue Committee, KGD)",
    wire=Shep(service_id="KGD_TAX_DEBT", payload="tax.xsd"),
    operations=(
        Operation(
            "get_debt",
            (Param("taxpayer", IIN_OR_BIN),),
            call="TaxDebtRequest",
            status=Status(
                "resultCode",
                not_found=("TAXPAYER_NOT_FOUND",),
                rejected=("INVALID_REQUEST", "ACCESS_DENIED"),
                message="resultMessage",
            ),
            record=Into(
                "tax_debt",
                {
                    "taxpayer": "taxpayer",
                    "total": "total",
                    "items": Nested(
                        {"tax": "tax", "amount": "amount", "due_date": "dueDate"},
                        each="items/item",
                    ),
                },
                at="debt",
            ),
            echo={"taxpayer": "taxpayer"},
            sample=Sample(
                {"taxpayer": "690214412868"},
                unknown={"taxpayer": "940512410508"},
                other={"taxpayer": "850314354052"},
            ),
        ),
    ),
)
