"""КПСиСУ criminal records: the committee's own SOAP 1.1 document/literal service
(WSDL ``adapters/soap/wsdl/criminal.wsdl``). A restricted register.

``get_record`` by IIN: whether the person has a criminal record and each conviction
(article, court, date, sentence). A known person without convictions answers
``has_record`` false and none; an IIN no person holds is a Client fault coded
``PERSON_NOT_FOUND``.
"""

from regbus.adapters.kinds import IIN
from regbus.adapters.spec import Faults, Into, Nested, Operation, Param, Registry, Sample, Soap

CRIMINAL = Registry(
    registry="criminal",
    name="Criminal records (KPSiSU)",
    wire=Soap(
        wsdl="criminal.wsdl",
        faults=Faults("ServiceFault", not_found=("PERSON_NOT_FOUND",)),
    ),
    sensitivity=("restricted",),
    operations=(
        Operation(
            "get_record",
            (Param("iin", IIN),),
            call="GetRecord",
            record=Into(
                "criminal_record",
                {
                    "iin": "iin",
                    "has_record": "hasRecord",
                    "convictions": Nested(
                        {
                            "article": "article",
                            "description": "description",
                            "convicted_on": "convictedOn",
                            "court": "court",
                            "sentence": "sentence",
                        },
                        each="conviction",
                    ),
                },
            ),
            echo={"iin": "iin"},
            # The other subject is generated (default population) and has a record too.
            sample=Sample(
                {"iin": "771130308916"},
                unknown={"iin": "940512410508"},
                other={"iin": "750505347047"},
            ),
        ),
    ),
)
