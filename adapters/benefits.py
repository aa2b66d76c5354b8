"""ГЦВП social benefits: the centre's own SOAP 1.1 document/literal service
(WSDL ``adapters/soap/wsdl/benefits.wsdl``).

``list_benefits`` by IIN: every benefit the person receives or received, newest first
(none is an empty list; an IIN no person holds is ``PERSON_NOT_FOUND``).

``assign_birth_benefit`` assigns the one-time birth benefit to a parent (``iin``) for
a child and answers it. One benefit per child, whoever asks: a child who has one is
refused under a new key (``BENEFIT_ALREADY_ASSIGNED``), while a repeat with the same
key answers the first benefit and changes nothing. Also refused: the key with another
request, a child born outside the benefit year, a recipient the child's birth act does
not name as a parent.
"""

from regbus.adapters.kinds import IIN, KEY
from regbus.adapters.spec import Faults, Into, Operation, Param, Registry, Sample, Soap

BENEFIT = {
    "benefit_number": "benefitNumber",
    "iin": "recipientIin",
    "kind": "kind",
    "amount": "amount",
    "assigned_on": "assignedOn",
    "status": "status",
    "child_iin": "childIin?",
    "until": "until?",
}
# A generated mother (default population) and a newborn the population does not hold
# yet (its IIN just assigned: a girl born 2026-11-20).
ASSIGN = {
    "iin": "960601440478",
    "child_iin": "261120604109",
    "idempotency_key": "contract-benefit-0001",
}

BENEFITS = Registry(
    registry="benefits",
    name="Social benefits (GCVP)",
    wire=Soap(
        wsdl="benefits.wsdl",
        faults=Faults(
            "ServiceFault",
            not_found=("PERSON_NOT_FOUND",),
            rejected=(
                "BENEFIT_ALREADY_ASSIGNED",
                "IDEMPOTENCY_KEY_REUSED",
                "NOT_ELIGIBLE",
                "NOT_A_PARENT",
            ),
        ),
    ),
    operations=(
        Operation(
            "list_benefits",
            (Param("iin", IIN),),
            call="ListBenefits",
            record=Into("benefits", BENEFIT, each="benefit"),
            echo={"iin": "iin"},
            sample=Sample(
                {"iin": "920721425717"},
                unknown={"iin": "940512410508"},
                other={"iin": "481030380429"},
            ),
        ),
        Operation(
            "assign_birth_benefit",
            (Param("iin", IIN), Param("child_iin", IIN), Param("idempotency_key", KEY)),
            call="AssignBirthBenefit",
            writes=True,
            idempotency_key="idempotency_key",
            record=Into("benefit", BENEFIT, at="benefit"),
            echo={"iin": "iin", "child_iin": "child_iin"},
            sample=Sample(
                ASSIGN,
                unknown=ASSIGN | {"iin": "940512410508"},
                other={"iin": "840103412500"},
            ),
        ),
    ),
)
