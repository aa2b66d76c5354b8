"""The address register (ГБД «Адресный регистр»), a REST/JSON API
(``adapters/openapi/address.json``).

By IIN: where the person is registered to live, permanently or temporarily
(a temporary registration says until when), with the address itself; by the
register's 16-digit code: the address. A person without a registration, or a
code the register does not hold, is a business "not found" (HTTP 404).
"""

from importlib.resources import files

from regbus.adapters.kinds import IIN, pattern
from regbus.adapters.spec import Into, Nested, Operation, Param, Registry, Rest, Sample, Source

ADDRESS_CODE = pattern("address_code", r"[0-9]{16}", like="0100000000012345")

ADDRESS_FIELDS: dict[str, Source] = {
    "code": "code",
    "region_code": "regionCode",
    "region": "region",
    "city": "city",
    "street": "street",
    "house": "house",
    "flat": "flat?",
    "kind": "kind",
}

REGISTRATION_FIELDS: dict[str, Source] = {
    "iin": "iin",
    "address": Nested(ADDRESS_FIELDS, at="address"),
    "kind": "kind",
    "registered_on": "registeredOn",
    "valid_to": "validTo?",
}

ADDRESS = Registry(
    registry="address",
    name="Address register (GBD AR)",
    wire=Rest(openapi=files("regbus.adapters") / "openapi" / "address.json"),
    sensitivity=("personal",),
    operations=(
        Operation(
            "get_registration",
            (Param("iin", IIN),),
            call="GET /registrations/{iin}",
            record=Into("registration", REGISTRATION_FIELDS),
            echo={"iin": "iin"},
            sample=Sample(
                {"iin": "850314354052"},
                unknown={"iin": "940512410508"},
                other={"iin": "881225416427"},
            ),
        ),
        Operation(
            "get_address",
            (Param("code", ADDRESS_CODE),),
            call="GET /addresses/{code}",
            record=Into("address", ADDRESS_FIELDS),
            echo={"code": "code"},
            sample=Sample(
                {"code": "0100000000012345"},
                unknown={"code": "9900000000000000"},
                other={"code": "0200000000045678"},
            ),
        ),
    ),
)
