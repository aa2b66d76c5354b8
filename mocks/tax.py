"""Mock КГД tax debts behind ШЭП SyncChannel: ``POST /tax/SyncChannel`` (service
``KGD_TAX_DEBT``), ``GET /tax/SyncChannel?wsdl`` and ``?xsd=tax`` for the payload schema.
Debtors come from the shared population's tax debts; any other person or entity of the
population owes nothing (total 0, no items); anyone else is not a taxpayer it knows."""

from __future__ import annotations

from lxml import etree

from regbus.mocks.population import Population
from regbus.mocks.shep import Handler, ShepMock

REQUEST = "TaxDebtRequest"


class TaxMock(ShepMock):
    """Tax debts by IIN or BIN, answering from the shared population."""

    id = "tax"
    service_id = "KGD_TAX_DEBT"

    def __init__(self, population: Population) -> None:
        self.debts = population.tax_debts
        self.taxpayers = {*population.persons, *population.entities, *population.tax_debts}

    def handlers(self) -> dict[str, Handler]:
        return {REQUEST: self._debt}

    def _debt(self, request: etree._Element) -> etree._Element:
        taxpayer = self.payload.text(request, "taxpayer")
        if taxpayer not in self.taxpayers:
            return self.answer(REQUEST, "TAXPAYER_NOT_FOUND", "Taxpayer not found")
        row = self.debts.get(taxpayer, {"total": 0, "items": []})
        answer = self.answer(REQUEST, "OK")
        debt = self.add(answer, "debt", taxpayer=taxpayer, total=row["total"])
        items = self.add(debt, "items")
        for item in row["items"]:
            self.add(
                items, "item", tax=item["tax"], amount=item["amount"], dueDate=item["due_date"]
            )
        return answer
