"""Mock national register of identification numbers behind ШЭП SyncChannel:
``POST /iin/SyncChannel`` (service ``NRIN_IIN_ASSIGN``), ``GET /iin/SyncChannel?wsdl``
and ``?xsd=iin`` for the payload schema.

A birth act of the shared population answers its subject's IIN, assigned on the act's
registration date. A new act gets a fresh IIN (its birth date, the century/sex digit, a
serial no one holds, the check digit), kept in this mock's own state: one act, one IIN,
whatever the key. A key sent again with other act data is refused.
"""

from __future__ import annotations

import hashlib
from datetime import date

from lxml import etree

from regbus.adapters.identifiers import check_digit
from regbus.mocks import people
from regbus.mocks.population import Population
from regbus.mocks.shep import Handler, ShepError, ShepMock

REQUEST = "IinAssignRequest"
CENTURY = {18: 1, 19: 3, 20: 5}  # the century/sex digit of a man; a woman's is one more
SEX = {"M": "MALE", "F": "FEMALE"}


class IinMock(ShepMock):
    """Assigns IINs; the population is read, the assignments are this mock's own."""

    id = "iin"
    service_id = "NRIN_IIN_ASSIGN"

    def __init__(self, population: Population) -> None:
        persons = population.persons
        self.registered: dict[str, dict[str, str]] = {}  # population birth acts, by number
        for act in population.civil_acts:
            person = persons.get(act.get("subject_iin", ""))
            if act["type"] == "birth" and person is not None:
                sex = SEX.get(person["sex"], "")
                self.registered[act["act_number"]] = _assignment(
                    person["iin"],
                    act["act_number"],
                    act["registered_on"],
                    sex,
                    person["birth_date"],
                )
        self.issued: dict[str, dict[str, str]] = {}  # assignments made here, by act number
        self.keys: dict[str, tuple[str, str, str]] = {}  # key -> (act, birth date, sex)
        self.taken = {people.NEVER_ISSUED_IIN, *persons, *population.entities}

    def handlers(self) -> dict[str, Handler]:
        return {REQUEST: self._assign}

    def _assign(self, request: etree._Element) -> etree._Element:
        act, born, sex, key = (
            self.payload.text(request, name)
            for name in ("act_number", "birth_date", "sex", "idempotency_key")
        )
        asked = (act, born, sex)
        if self.keys.get(key, asked) != asked:
            return self.answer(REQUEST, "IDEMPOTENCY_KEY_REUSED", f"key {key} was sent before")
        found = self.registered.get(act) or self.issued.get(act)
        if found is None:
            code, why = _refusal(born)
            if code:
                return self.answer(REQUEST, code, why)
            iin = self._new_iin(act, date.fromisoformat(born), sex)
            found = self.issued[act] = _assignment(iin, act, _today().isoformat(), sex, born)
        elif (found["birthDate"], found["sex"]) != (born, sex):
            return self.answer(REQUEST, "ACT_DATA_MISMATCH", f"act {act} records another birth")
        self.keys[key] = asked
        answer = self.answer(REQUEST, "OK")
        self.add(answer, "assignment", **found)
        return answer

    def _new_iin(self, act: str, born: date, sex: str) -> str:
        """A valid IIN for this birth that no one holds; the serial is drawn from the act."""
        head = f"{born:%y%m%d}{CENTURY[born.year // 100] + (sex == 'FEMALE')}"
        start = int(hashlib.sha256(act.encode()).hexdigest(), 16)
        for step in range(10_000):
            first11 = f"{head}{(start + step) % 10_000:04d}"
            check = check_digit(first11)
            iin = f"{first11}{check}"
            if check is not None and iin not in self.taken:
                self.taken.add(iin)
                return iin
        raise ShepError("SERVICE_ERROR", f"no IIN left for births on {born}", "Server")


def _refusal(born: str) -> tuple[str, str]:
    """Why no IIN can be issued for a birth on ``born``: (code, message), or ("", "")."""
    try:
        day = date.fromisoformat(born)
    except ValueError:
        return "INVALID_REQUEST", f"birth date {born!r} is not YYYY-MM-DD"
    if day > _today():
        return "BIRTH_DATE_IN_FUTURE", f"birth date {born} is in the future"
    if day.year // 100 not in CENTURY:
        return "INVALID_REQUEST", f"no IIN is issued for a birth in {day.year}"
    return "", ""


def _assignment(iin: str, act: str, assigned_on: str, sex: str, born: str) -> dict[str, str]:
    """An assignment as the schema's ``Assignment`` lays it out."""
    return {
        "iin": iin,
        "birthActNumber": act,
        "assignedOn": assigned_on,
        "sex": sex,
        "birthDate": born,
    }


def _today() -> date:
    """Today, but never before the population's own today (its newest births)."""
    return max(date.today(), people.AS_OF)
