"""The psychiatric register, through an X-Road 4.0 security server: the same
service as the narcology register (:mod:`regbus.adapters.narcology`), under its
own provider subsystem. No demo subject is on it; the sample is a generated
person of the default population.
"""

from regbus.adapters.narcology import dispensary_register

PSYCHIATRY = dispensary_register(
    "psychiatry", "Psychiatric register", known="060505578888", other="850314354052"
)
