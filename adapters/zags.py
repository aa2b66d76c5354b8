"""ИС ЗАГС, civil status acts: the agency's own SOAP 1.1 document/literal service.

WSDL ``adapters/soap/wsdl/zags.wsdl``. A person named in no act is unknown to
the registry, which answers with a Client fault coded ``PERSON_NOT_FOUND``.
"""

from collections.abc import Mapping

from regbus.adapters.kinds import IIN
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


ZAGS = Registry(
    registry="zags",
    name="Civil status acts (ZAGS)",
    wire=Soap(
        wsdl="zags.wsdl",
        faults=Faults("ServiceFault", code="code", not_found=("PERSON_NOT_FOUND",)),
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
    ),
)
