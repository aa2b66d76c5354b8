"""ГБД ФЛ, the state database of individuals, behind ШЭП SyncChannel.

Service ``GBDFL_PERSON_INFO``; payload schema ``adapters/soap/wsdl/gbdfl.xsd``.
"""

from collections.abc import Mapping

from regbus.adapters.kinds import IIN
from regbus.adapters.spec import Into, Operation, Param, Registry, Sample, Shep, Status
from regbus.adapters.views import View


def deceased(person: View, params: Mapping[str, str]) -> bool:
    return person.text("lifeStatus") == "DECEASED" or bool(person.text("deathDate"))


GBDFL = Registry(
    registry="gbdfl",
    name="State database of individuals (GBD FL)",
    wire=Shep(service_id="GBDFL_PERSON_INFO", payload="gbdfl.xsd"),
    operations=(
        Operation(
            "get_person",
            (Param("iin", IIN),),
            call="PersonRequest",
            status=Status(
                "resultCode",
                not_found=("PERSON_NOT_FOUND",),
                rejected=("INVALID_IIN", "ACCESS_DENIED"),
                message="resultMessage",
            ),
            record=Into(
                "person",
                {
                    "iin": "iin",
                    "last_name": "lastName",
                    "first_name": "firstName",
                    "patronymic": "middleName?",
                    "sex": "gender",
                    "birth_date": "birthDate",
                    "birth_place": "birthPlace?",
                    "citizenship": "citizenship?",
                    "deceased": deceased,
                    "death_date": "deathDate?",
                    "document_number": "identityDocument/number?",
                },
                at="person",
            ),
            echo={"iin": "iin"},
            sample=Sample(
                {"iin": "850314354052"},
                unknown={"iin": "940512410508"},
                other={"iin": "920721425717"},
            ),
        ),
    ),
)
