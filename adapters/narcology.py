"""The narcology register, through an X-Road 4.0 security server.

The narcology and psychiatric dispensary registers expose one service
(WSDL ``adapters/soap/wsdl/dispensary.wsdl``), each under its own provider
subsystem; ``dispensary_register`` declares either. ``check_registration``
answers whether a person is on the register: yes with since when and the
dispensary, or no. The register holds only the people on it, so a person it
never saw is "no", not "not found". It never answers a diagnosis. An answer
that names the other register is refused as malformed.
"""

from collections.abc import Mapping

from regbus.adapters.kinds import IIN
from regbus.adapters.spec import (
    Faults,
    Into,
    Operation,
    Param,
    Registry,
    Sample,
    Source,
    XRoad,
)
from regbus.adapters.views import View


def _from(register: str) -> Source:
    """The answer's register, which must be ``register``."""

    def named(view: View, params: Mapping[str, str]) -> str:
        found = view.text("register")
        if found != register:
            raise ValueError(f"the answer is from the {found or 'unnamed'} register")
        return found

    return named


def dispensary_register(registry: str, name: str, known: str, other: str) -> Registry:
    """A dispensary register's declaration; ``known`` is on it, ``other`` is someone else."""
    return Registry(
        registry=registry,
        name=name,
        wire=XRoad(
            wsdl="dispensary.wsdl", faults=Faults("ServiceFault", rejected=("INVALID_REQUEST",))
        ),
        sensitivity=("medical", "restricted"),
        operations=(
            Operation(
                "check_registration",
                (Param("iin", IIN),),
                call="CheckRegistration",
                record=Into(
                    "register_check",
                    {
                        "iin": "iin",
                        "register": _from(registry),
                        "registered": "registered",
                        "registered_on": "registeredOn?",
                        "dispensary": "dispensary?",
                    },
                ),
                echo={"iin": "iin"},
                sample=Sample({"iin": known}, other={"iin": other}),
            ),
        ),
    )


NARCOLOGY = dispensary_register(
    "narcology", "Narcology register", known="771130308916", other="850314354052"
)
