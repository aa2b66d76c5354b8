"""Migration police register of foreigners (МВД), a REST/JSON API
(``adapters/openapi/migration.json``).

``get_registration`` by IIN or by the foreign document's number (exactly one): the
foreigner's current temporary registration (for a document, the latest one made with
it); someone never registered is a business "not found" (HTTP 404).

``register_temporary`` registers a foreigner (a known person who is not a citizen of
Kazakhstan) at an address until ``valid_to``, which must lie after the registry's today;
the answer is the registration with its new number (HTTP 201). A person holds one
registration at a time: a new one replaces the active one (which becomes ``REPLACED``),
as a move to another address does. A request that repeats the active registration
exactly (document, citizenship, address, purpose, valid_to) changes nothing and answers
that registration, whatever its key; a repeat with the same ``Idempotency-Key`` gets the
first answer. Refused: a citizen (NOT_A_FOREIGNER), a past ``valid_to``
(VALID_TO_IN_PAST), an unknown address, another person's document.
"""

from importlib.resources import files

from regbus.adapters.kinds import DATE, IIN, KEY, enum, pattern
from regbus.adapters.spec import Into, Operation, Param, Registry, Rest, Sample

PETROVA, UNKNOWN = "881225416427", "940512410508"
# A generated foreigner of the default population, for answers about someone else.
OTHER = {"iin": "021115555222", "document_number": "89 0023392"}

DOCUMENT = pattern("document_number", r"[0-9A-Z][0-9A-Z ]{3,18}[0-9A-Z]", like="75 1234567")
CITIZENSHIP = pattern("citizenship", r"[A-Z]{3}", like="RUS")
ADDRESS_CODE = pattern("address_code", r"[0-9]{16}")
PURPOSE = enum("purpose", "work", "study", "family", "business", "private")

REGISTRATION = {
    "registration_number": "registration_number",
    "iin": "foreigner.iin",
    "citizenship": "foreigner.citizenship",
    "document_number": "foreigner.document_number",
    "purpose": "purpose",
    "address_code": "address_code",
    "registered_on": "registered_on",
    "valid_to": "valid_to",
    "status": "status",
}

# Petrova moves to another Almaty flat and stays longer.
MOVE = {
    "iin": PETROVA,
    "document_number": "75 1234567",
    "citizenship": "RUS",
    "address_code": "0200000000034567",
    "purpose": "work",
    "valid_to": "2027-06-30",
    "idempotency_key": "contract-migration-0001",
}

MIGRATION = Registry(
    registry="migration",
    name="Migration police register of foreigners (MVD)",
    wire=Rest(openapi=files("regbus.adapters") / "openapi" / "migration.json"),
    sensitivity=("personal",),
    operations=(
        Operation(
            "get_registration",
            (Param("iin", IIN, required=False), Param("document_number", DOCUMENT, required=False)),
            one_of=("iin", "document_number"),
            call="GET /registrations",
            record=Into("migration", REGISTRATION),
            echo={"iin": "iin", "document_number": "document_number"},
            sample=Sample({"iin": PETROVA}, unknown={"iin": UNKNOWN}, other={"iin": OTHER["iin"]}),
        ),
        Operation(
            "register_temporary",
            (
                Param("iin", IIN),
                Param("document_number", DOCUMENT),
                Param("citizenship", CITIZENSHIP),
                Param("address_code", ADDRESS_CODE),
                Param("purpose", PURPOSE),
                Param("valid_to", DATE),
                Param("idempotency_key", KEY),
            ),
            call="POST /registrations",
            writes=True,
            idempotency_key="idempotency_key",
            record=Into("migration", REGISTRATION),
            echo={"iin": "iin", "document_number": "document_number"},
            sample=Sample(MOVE, unknown=MOVE | {"iin": UNKNOWN}, other=OTHER),
        ),
    ),
)
