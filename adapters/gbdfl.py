"""ГБД ФЛ, the state database of individuals, behind ШЭП SyncChannel.

Service ``GBDFL_PERSON_INFO``; payload schema ``adapters/soap/wsdl/gbdfl.xsd``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import ClassVar

from lxml import etree

from regbus.adapters.base import Adapter, AdapterSpec, CallContext, Endpoint, Operation, Param
from regbus.adapters.errors import RegistryRejected, SubjectNotFound, UnknownOperation
from regbus.adapters.soap.payload import PayloadSchema
from regbus.adapters.soap.shep import SyncChannel
from regbus.v1 import records_pb2

SERVICE_ID = "GBDFL_PERSON_INFO"
SEX = {"MALE": records_pb2.SEX_MALE, "FEMALE": records_pb2.SEX_FEMALE}
REFUSALS = ("INVALID_IIN", "ACCESS_DENIED")


class GbdflAdapter(Adapter):
    spec: ClassVar[AdapterSpec] = AdapterSpec(
        registry="gbdfl",
        name="State database of individuals (GBD FL)",
        protocol="shep-soap",
        operations=(Operation("get_person", (Param("iin", "iin"),)),),
    )

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(endpoint)
        self._payload = PayloadSchema("gbdfl.xsd")
        self._channel = SyncChannel(endpoint, registry="gbdfl", service_id=SERVICE_ID)

    async def call(
        self, operation: str, params: Mapping[str, str], context: CallContext
    ) -> records_pb2.Record:
        if operation != "get_person":
            raise UnknownOperation(f"no operation {operation!r}", registry="gbdfl")
        request = self._payload.build("PersonRequest", iin=params["iin"])
        answer = await self._channel.send(request, context, operation)
        try:
            return self._record(answer, params["iin"], operation)
        except ValueError as exc:
            raise self._channel.malformed(str(exc), operation) from exc

    def _record(self, answer: etree._Element, iin: str, operation: str) -> records_pb2.Record:
        """The person in a ``PersonResponse``; ``ValueError`` if the answer is unreadable."""
        self._payload.check(answer, "PersonResponse")
        code = self._payload.text(answer, "resultCode")
        if code == "PERSON_NOT_FOUND":
            raise SubjectNotFound(
                f"no person with IIN {iin}", registry="gbdfl", operation=operation
            )
        if code in REFUSALS:
            message = self._payload.text(answer, "resultMessage")
            raise RegistryRejected(
                f"GBD FL refused the request: {code} {message}".rstrip(),
                registry="gbdfl",
                operation=operation,
            )
        person = answer.find(self._payload.qname("person"))
        if code != "OK" or person is None:
            raise ValueError(f"resultCode {code} without a person")
        if self._payload.text(person, "iin") != iin:
            raise ValueError("the answer is about another IIN")
        return records_pb2.Record(person=self._person(person))

    def _person(self, element: etree._Element) -> records_pb2.Person:
        def text(path: str) -> str:
            return self._payload.text(element, path)

        death = text("deathDate")
        return records_pb2.Person(
            iin=text("iin"),
            last_name=text("lastName"),
            first_name=text("firstName"),
            patronymic=text("middleName"),
            sex=SEX.get(text("gender"), records_pb2.SEX_UNSPECIFIED),
            birth_date=to_date(text("birthDate")),
            birth_place=text("birthPlace"),
            citizenship=text("citizenship"),
            deceased=text("lifeStatus") == "DECEASED" or bool(death),
            death_date=to_date(death) if death else None,
            document_number=text("identityDocument/number"),
        )

    async def aclose(self) -> None:
        await self._channel.aclose()


def to_date(text: str) -> records_pb2.Date:
    """A ``records_pb2.Date`` from an xs:date (any zone suffix is dropped)."""
    day = date.fromisoformat(text[:10])
    return records_pb2.Date(year=day.year, month=day.month, day=day.day)
