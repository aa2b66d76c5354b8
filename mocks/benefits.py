"""Mock ГЦВП social benefits: plain SOAP 1.1 ``POST /benefits/BenefitService``
(``ListBenefits``, ``AssignBirthBenefit``), ``GET /benefits/BenefitService?wsdl``.

Benefits come from the population, newest first; an IIN no person holds is a Client
fault coded ``PERSON_NOT_FOUND``. ``AssignBirthBenefit`` assigns today, ``ACTIVE``
(assigned, payment pending), ``BIRTH_BENEFIT_MRP`` times the monthly calculation index
of the child's birth year, numbered ``BN-YYYY-NNNNNNN``; the benefits it assigns are
this mock's own and ``ListBenefits`` lists them. The child is the population's person
(whose birth act must name the recipient as a parent) or a newborn it does not hold
yet, read from its IIN; it must be born in the benefit year (``ELIGIBLE_SINCE``, a
year before the population's reference day, up to today). One benefit per child.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from lxml import etree

from regbus.adapters.views import XmlView
from regbus.mocks import people
from regbus.mocks.population import Population, group
from regbus.mocks.soap import Content, Handler, Numbering, ServiceFault, SoapMock

ELIGIBLE_SINCE = people.AS_OF - timedelta(days=365)
CENTURY = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


class BenefitsMock(SoapMock):
    """The benefits service: the shared population's benefits and its own assignments."""

    id = "benefits"
    path = "/BenefitService"

    def __init__(self, population: Population) -> None:
        super().__init__()
        self.persons = population.persons
        rows = sorted(population.benefits, key=lambda row: row["assigned_on"], reverse=True)
        self.received = group(rows, "iin")  # newest first; this mock's own lists
        self.birth_benefits = {
            row["child_iin"]: row for row in population.benefits if row["kind"] == "BIRTH"
        }
        self.parents = {
            act["subject_iin"]: {act.get("mother_iin"), act.get("father_iin")} - {None}
            for act in population.civil_acts
            if act["type"] == "birth" and act.get("subject_iin")
        }
        self.numbers = Numbering("BN", (row["benefit_number"] for row in population.benefits))
        self.assigned: list[dict[str, Any]] = []  # the benefits assigned here, in order

    def handlers(self) -> dict[str, Handler]:
        return {"ListBenefitsRequest": self._list, "AssignBirthBenefitRequest": self._assign}

    def _list(self, request: XmlView) -> etree._Element:
        iin = self._recipient(request)
        rows = self.received.get(iin, [])
        return self.reply("ListBenefitsResponse", benefit=[_benefit(row) for row in rows])

    def _assign(self, request: XmlView) -> etree._Element:
        return self.once(request, lambda: self._new_birth_benefit(request))

    def _new_birth_benefit(self, request: XmlView) -> etree._Element:
        iin, child = self._recipient(request), request.text("child_iin")
        today = self.today()
        born = self._born(child)
        if not ELIGIBLE_SINCE <= born <= today:
            raise ServiceFault(
                "NOT_ELIGIBLE", f"child {child} born {born}: not in the benefit year"
            )
        parents = self.parents.get(child)
        if parents and iin not in parents:
            raise ServiceFault("NOT_A_PARENT", f"{iin} is not a parent of {child}")
        if child in self.birth_benefits:
            number = self.birth_benefits[child]["benefit_number"]
            raise ServiceFault("BENEFIT_ALREADY_ASSIGNED", f"child {child} has benefit {number}")
        mrp = people.MRP.get(born.year, people.MRP[max(people.MRP)])
        row = {
            "benefit_number": self.numbers.issue(today.year),
            "iin": iin,
            "kind": "BIRTH",
            "amount": people.BIRTH_BENEFIT_MRP * mrp,
            "assigned_on": today.isoformat(),
            "status": "ACTIVE",
            "child_iin": child,
        }
        self.birth_benefits[child] = row
        self.received.setdefault(iin, []).insert(0, row)
        self.assigned.append(row)
        return self.reply("AssignBirthBenefitResponse", benefit=_benefit(row))

    def _recipient(self, request: XmlView) -> str:
        iin = request.text("iin")
        if iin not in self.persons:
            raise ServiceFault("PERSON_NOT_FOUND", f"no person with IIN {iin}")
        return iin

    def _born(self, child: str) -> date:
        """The child's birth date: the population's, or read from a newborn's IIN."""
        person = self.persons.get(child)
        if person is not None:
            return date.fromisoformat(person["birth_date"])
        try:
            year = CENTURY[child[6]] + int(child[:2])
            return date(year, int(child[2:4]), int(child[4:6]))
        except (KeyError, ValueError):
            raise ServiceFault("INVALID_REQUEST", f"{child} holds no birth date") from None


def _benefit(row: dict[str, Any]) -> dict[str, Content]:
    """One benefit's fields, in the order of the WSDL's ``Benefit``."""
    return {
        "benefitNumber": row["benefit_number"],
        "recipientIin": row["iin"],
        "kind": row["kind"],
        "amount": str(row["amount"]),
        "assignedOn": row["assigned_on"],
        "status": row["status"],
        "childIin": row.get("child_iin", ""),
        "until": row.get("until", ""),
    }
