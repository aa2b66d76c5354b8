"""Mock ЕНПФ contributions behind ШЭП SyncChannel: ``POST /pension/SyncChannel``
(service ``ENPF_CONTRIBUTIONS``), ``GET /pension/SyncChannel?wsdl`` and ``?xsd=pension``
for the payload schema. Accounts come from the shared population; a person without one
(no contribution ever paid) is ``ACCOUNT_NOT_FOUND`` like anyone unknown."""

from __future__ import annotations

from lxml import etree

from regbus.mocks.population import Population
from regbus.mocks.shep import Handler, ShepMock

REQUEST = "ContributionsRequest"


class PensionMock(ShepMock):
    """Pension accounts by IIN, answering from the shared population."""

    id = "pension"
    service_id = "ENPF_CONTRIBUTIONS"

    def __init__(self, population: Population) -> None:
        self.accounts = population.pension

    def handlers(self) -> dict[str, Handler]:
        return {REQUEST: self._contributions}

    def _contributions(self, request: etree._Element) -> etree._Element:
        row = self.accounts.get(self.payload.text(request, "iin"))
        if row is None:
            return self.answer(REQUEST, "ACCOUNT_NOT_FOUND", "No pension account")
        answer = self.answer(REQUEST, "OK")
        account = self.add(answer, "account", iin=row["iin"], balance=row["balance"])
        paid = self.add(account, "contributions")
        for c in row["contributions"]:
            self.add(paid, "contribution", period=c["period"], amount=c["amount"], agent=c["agent"])
        return answer
