"""БМГ mobile citizens database, a REST/JSON API (``adapters/openapi/mobile.json``).

``get_phone_status`` by IIN: whether the person has a mobile number on file, with the
number masked (``+7 707 *** ** 67``), its operator and since when. A person the registry
knows without a number answers ``has_phone`` false; someone it does not know is a
business "not found" (HTTP 404).

``send_code`` texts a one-time six-digit code to the person's number and answers its
``code_id``, the masked number and when it expires (five minutes on, RFC 3339); the code
itself never comes back. A person without a number is refused (409 NO_PHONE). Sending
again with a new key texts a new code and the person's earlier one stops working.

``verify_code`` checks a code: ``verified``, and the attempts left (3 to begin with; a
wrong code costs one). A code verified, out of attempts or replaced by a newer one is
spent (409 CODE_SPENT); an expired one is refused (422 CODE_EXPIRED); an unknown
``code_id`` is "not found" (404). A repeat with the same ``Idempotency-Key`` gets the
first answer and costs no attempt.
"""

from importlib.resources import files

from regbus.adapters.kinds import IIN, KEY, pattern
from regbus.adapters.spec import Into, Operation, Param, Registry, Rest, Sample

ZHANSAYA, ARMAN, UNKNOWN = "010101660915", "850314354052", "940512410508"
# The code the mock registry has texted Arman when it starts (mocks/mobile.py): not
# Zhansaya, whom the send_code example texts, which would replace it.
DEMO_CODE_ID, DEMO_CODE = "5d0c6a1e-3b7f-4c29-9e81-2f4a6b8c0d17", "482913"

CODE_ID = pattern(
    "code_id",
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    like=DEMO_CODE_ID,
)
CODE = pattern("code", r"[0-9]{6}")

PHONE = {
    "iin": "iin",
    "has_phone": "has_phone",
    "phone_masked": "phone.masked?",
    "operator": "phone.operator?",
    "registered_on": "phone.registered_on?",
}
SENT = {
    "iin": "iin",
    "code_id": "code_id",
    "phone_masked": "phone_masked",
    "expires_at": "expires_at",
}
CHECKED = {
    "code_id": "code_id",
    "iin": "iin",
    "verified": "verified",
    "attempts_left": "attempts_left",
}
CHECK = {"code_id": DEMO_CODE_ID, "code": DEMO_CODE, "idempotency_key": "contract-check-0001"}

MOBILE = Registry(
    registry="mobile",
    name="Mobile citizens database (BMG)",
    wire=Rest(openapi=files("regbus.adapters") / "openapi" / "mobile.json"),
    sensitivity=("personal",),
    operations=(
        Operation(
            "get_phone_status",
            (Param("iin", IIN),),
            call="GET /subscribers/{iin}",
            record=Into("phone", PHONE),
            echo={"iin": "iin"},
            sample=Sample({"iin": ZHANSAYA}, unknown={"iin": UNKNOWN}, other={"iin": ARMAN}),
        ),
        Operation(
            "send_code",
            (Param("iin", IIN), Param("idempotency_key", KEY)),
            call="POST /codes",
            writes=True,
            idempotency_key="idempotency_key",
            record=Into("code_sent", SENT),
            echo={"iin": "iin"},
            sample=Sample(
                {"iin": ZHANSAYA, "idempotency_key": "contract-send-0001"},
                unknown={"iin": UNKNOWN, "idempotency_key": "contract-send-0001"},
                other={"iin": ARMAN},
            ),
        ),
        Operation(
            "verify_code",
            (Param("code_id", CODE_ID), Param("code", CODE), Param("idempotency_key", KEY)),
            call="POST /codes/{code_id}/check",
            writes=True,
            idempotency_key="idempotency_key",
            record=Into("code_check", CHECKED),
            echo={"code_id": "code_id"},
            sample=Sample(
                CHECK, unknown=CHECK | {"code_id": "00000000-0000-4000-8000-000000000000"}
            ),
        ),
    ),
)
