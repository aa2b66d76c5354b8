"""ИС ЗАГС, civil status acts: the agency's own SOAP 1.1 document/literal service.

WSDL ``adapters/soap/wsdl/zags.wsdl``. A person named in no act is unknown to
the registry, which answers with a Client fault coded ``PERSON_NOT_FOUND``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar

from regbus.adapters.base import Adapter, AdapterSpec, CallContext, Endpoint, Operation, Param
from regbus.adapters.errors import RegbusError, SubjectNotFound, UnknownOperation
from regbus.adapters.soap.client import SoapClient, SoapFault
from regbus.v1 import records_pb2

NAMESPACE = "urn:kz:zags:civil-acts:v1"
ACT_TYPES = {
    "BIRTH": records_pb2.CIVIL_ACT_TYPE_BIRTH,
    "MARRIAGE": records_pb2.CIVIL_ACT_TYPE_MARRIAGE,
    "DIVORCE": records_pb2.CIVIL_ACT_TYPE_DIVORCE,
    "NAME_CHANGE": records_pb2.CIVIL_ACT_TYPE_NAME_CHANGE,
    "DEATH": records_pb2.CIVIL_ACT_TYPE_DEATH,
}
# The registry's participant roles, as the queried person's role in the record.
ROLES = {
    "CHILD": "subject",
    "DECEASED": "subject",
    "PERSON": "subject",
    "FATHER": "father",
    "MOTHER": "mother",
    "SPOUSE": "spouse",
}


def zags_fault_error(fault: SoapFault, registry: str, operation: str) -> RegbusError | None:
    """``ServiceFault`` code PERSON_NOT_FOUND is a business answer."""
    detail = fault.detail
    if detail is None or detail.tag != f"{{{NAMESPACE}}}ServiceFault":
        return None
    if detail.findtext(f"{{{NAMESPACE}}}code", "").strip() == "PERSON_NOT_FOUND":
        return SubjectNotFound(
            f"person unknown to the registry (PERSON_NOT_FOUND: {fault.message})",
            registry=registry,
            operation=operation,
        )
    return None


class ZagsAdapter(Adapter):
    spec: ClassVar[AdapterSpec] = AdapterSpec(
        registry="zags",
        name="Civil status acts (ZAGS)",
        protocol="soap",
        operations=(Operation("list_acts", (Param("iin", "iin"),)),),
    )

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(endpoint)
        self._soap = SoapClient(
            "zags.wsdl", endpoint, registry="zags", fault_mapper=zags_fault_error
        )

    async def call(
        self, operation: str, params: Mapping[str, str], context: CallContext
    ) -> records_pb2.Record:
        if operation != "list_acts":
            raise UnknownOperation(f"no operation {operation!r}", registry="zags")
        iin = params["iin"]
        acts = await self._soap.call("ListActs", operation, iin=iin)
        try:
            mapped = [civil_act(act, iin) for act in acts or ()]
        except (AttributeError, KeyError, TypeError) as exc:
            raise self._soap.malformed(f"unreadable act: {exc}", operation) from exc
        return records_pb2.Record(civil_acts=records_pb2.CivilActList(acts=mapped))

    async def aclose(self) -> None:
        await self._soap.aclose()


def civil_act(act: Any, iin: str) -> records_pb2.CivilAct:
    """One act as zeep parsed it, seen from the person ``iin``.

    The subject is the child, the deceased, the renamed person or, for a
    marriage or divorce, the first spouse; the other people named on the act
    are its participants.
    """
    people: list[tuple[str, str]] = [(p.iin, p.role) for p in act.participant]
    subject = next((i for i, role in people if ROLES[role] == "subject"), None)
    if subject is None:
        subject = next((i for i, role in people if role == "SPOUSE"), "")
    registered: date = act.registrationDate
    return records_pb2.CivilAct(
        act_number=act.actNumber,
        type=ACT_TYPES[act.actType],
        registered_on=records_pb2.Date(
            year=registered.year, month=registered.month, day=registered.day
        ),
        registry_office=act.registryOffice,
        subject_iin=subject,
        role=next((ROLES[role] for i, role in people if i == iin), ""),
        participant_iins=[i for i, _ in people if i != subject],
    )
