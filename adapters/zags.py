"""ИС ЗАГС, civil status acts: the agency's own SOAP 1.1 document/literal service.

WSDL ``adapters/soap/wsdl/zags.wsdl``. A person named in no act is unknown to
the registry, which answers with a Client fault coded ``PERSON_NOT_FOUND``.

``register_birth`` registers a birth and answers the new act (``BR-YYYY-NNNNNNN``),
naming the parents; the child's IIN comes later from the IIN register, so the act's
``subject_iin`` is empty. The mother (and a named father) must be known persons
(``PERSON_NOT_FOUND``). A repeat with the same idempotency key answers the same act;
the key with other data is refused, and so is the same child (mother, birth date,
first name) registered again under a new key: one birth, one act. A birth date in the
future and parents of the wrong sex are refused.
"""

from collections.abc import Mapping

from regbus.adapters.kinds import DATE, IIN, KEY, TEXT, enum
from regbus.adapters.spec import Faults, Into, Operation, Param, Registry, Sample, Soap
from regbus.adapters.views import View

# The act is the child's, the deceased's, the renamed person's, or for a
# marriage or divorce the first spouse's; the others named on it take part.
SUBJECT_ROLES = ("CHILD", "DECEASED", "PERSON", "SPOUSE")
ROLES = {"CHILD": "subject", "DECEASED": "subject", "PERSON": "subject"}


def _participants(act: View) -> list[tuple[str, str]]:
    return [(p.text("iin"), p.text("role")) for p in act.all("participant")]


def _people(act: View) -> list[tuple[str, str]]:
    """Each participant's IIN and role, read once per act for all the fields."""
    return act.memo(_participants)


def subject(act: View, params: Mapping[str, str]) -> str:
    people = _people(act)
    return next((iin for role in SUBJECT_ROLES for iin, r in people if r == role), "")


def role(act: View, params: Mapping[str, str]) -> str:
    """The queried person's role: subject, father, mother or spouse."""
    for iin, named in _people(act):
        if iin == params["iin"]:
            return ROLES.get(named, named.lower())
    raise ValueError(f"act {act.text('actNumber')} does not name {params['iin']}")


def others(act: View, params: Mapping[str, str]) -> list[str]:
    first = subject(act, params)
    return [iin for iin, _ in _people(act) if iin != first]


def parents_asked(act: View, params: Mapping[str, str]) -> list[str]:
    """:func:`others`, once the act is known to name the parents the birth was registered
    with: an act of another birth is an answer about someone else."""
    people = _people(act)
    for param, named in (("mother_iin", "MOTHER"), ("father_iin", "FATHER")):
        asked = params.get(param)
        if asked and (asked, named) not in people:
            raise ValueError(f"act {act.text('actNumber')} does not name {named} {asked}")
    return others(act, params)


SEX = enum("sex", "MALE", "FEMALE")
# A birth the default population does not hold yet: generated spouses, their first child.
BIRTH = {
    "mother_iin": "960601440478",
    "father_iin": "920415302054",
    "last_name": "Zhakenova",
    "first_name": "Aruzhan",
    "patronymic": "Ansarkyzy",
    "sex": "FEMALE",
    "birth_date": "2026-11-20",
    "birth_place": "Almaty",
    "idempotency_key": "contract-birth-0001",
}

ZAGS = Registry(
    registry="zags",
    name="Civil status acts (ZAGS)",
    wire=Soap(
        wsdl="zags.wsdl",
        faults=Faults(
            "ServiceFault",
            code="code",
            not_found=("PERSON_NOT_FOUND",),
            # INVALID_REQUEST and other Client faults are refusals by the generic rule.
            rejected=(
                "IDEMPOTENCY_KEY_REUSED",
                "BIRTH_ALREADY_REGISTERED",
                "BIRTH_DATE_IN_FUTURE",
                "PARENT_MISMATCH",
            ),
        ),
    ),
    operations=(
        Operation(
            "list_acts",
            (Param("iin", IIN),),
            call="ListActs",
            record=Into(
                "civil_acts",
                {
                    "act_number": "actNumber",
                    "type": "actType",
                    "registered_on": "registrationDate",
                    "registry_office": "registryOffice",
                    "subject_iin": subject,
                    "role": role,
                    "participant_iins": others,
                },
                each="act",
            ),
            sample=Sample(
                {"iin": "850314354052"},
                unknown={"iin": "940512410508"},
                other={"iin": "920721425717"},
            ),
        ),
        Operation(
            "register_birth",
            (
                Param("mother_iin", IIN),
                Param("father_iin", IIN, required=False),
                Param("last_name", TEXT),
                Param("first_name", TEXT),
                Param("patronymic", TEXT, required=False),
                Param("sex", SEX),
                Param("birth_date", DATE),
                Param("birth_place", TEXT, required=False),
                Param("idempotency_key", KEY),
            ),
            call="RegisterBirth",
            writes=True,
            idempotency_key="idempotency_key",
            record=Into(
                "civil_act",
                {
                    "act_number": "actNumber",
                    "type": "actType",
                    "registered_on": "registrationDate",
                    "registry_office": "registryOffice",
                    "subject_iin": subject,  # "" until the IIN register numbers the child
                    "role": lambda act, params: "subject",
                    "participant_iins": parents_asked,
                },
                at="act",
            ),
            sample=Sample(BIRTH, unknown=BIRTH | {"mother_iin": "940512410508"}),
        ),
    ),
)
