from google.protobuf import any_pb2 as _any_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Sex(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEX_UNSPECIFIED: _ClassVar[Sex]
    SEX_MALE: _ClassVar[Sex]
    SEX_FEMALE: _ClassVar[Sex]

class CivilActType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CIVIL_ACT_TYPE_UNSPECIFIED: _ClassVar[CivilActType]
    CIVIL_ACT_TYPE_BIRTH: _ClassVar[CivilActType]
    CIVIL_ACT_TYPE_MARRIAGE: _ClassVar[CivilActType]
    CIVIL_ACT_TYPE_DIVORCE: _ClassVar[CivilActType]
    CIVIL_ACT_TYPE_NAME_CHANGE: _ClassVar[CivilActType]
    CIVIL_ACT_TYPE_DEATH: _ClassVar[CivilActType]

class PolicyStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    POLICY_STATUS_UNSPECIFIED: _ClassVar[PolicyStatus]
    POLICY_STATUS_VALID: _ClassVar[PolicyStatus]
    POLICY_STATUS_EXPIRED: _ClassVar[PolicyStatus]
    POLICY_STATUS_TERMINATED: _ClassVar[PolicyStatus]

class LicenceStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LICENCE_STATUS_UNSPECIFIED: _ClassVar[LicenceStatus]
    LICENCE_STATUS_VALID: _ClassVar[LicenceStatus]
    LICENCE_STATUS_EXPIRED: _ClassVar[LicenceStatus]
    LICENCE_STATUS_REVOKED: _ClassVar[LicenceStatus]
    LICENCE_STATUS_SUSPENDED: _ClassVar[LicenceStatus]

class FineStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FINE_STATUS_UNSPECIFIED: _ClassVar[FineStatus]
    FINE_STATUS_UNPAID: _ClassVar[FineStatus]
    FINE_STATUS_PAID: _ClassVar[FineStatus]

class InspectionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    INSPECTION_STATUS_UNSPECIFIED: _ClassVar[InspectionStatus]
    INSPECTION_STATUS_VALID: _ClassVar[InspectionStatus]
    INSPECTION_STATUS_EXPIRED: _ClassVar[InspectionStatus]
SEX_UNSPECIFIED: Sex
SEX_MALE: Sex
SEX_FEMALE: Sex
CIVIL_ACT_TYPE_UNSPECIFIED: CivilActType
CIVIL_ACT_TYPE_BIRTH: CivilActType
CIVIL_ACT_TYPE_MARRIAGE: CivilActType
CIVIL_ACT_TYPE_DIVORCE: CivilActType
CIVIL_ACT_TYPE_NAME_CHANGE: CivilActType
CIVIL_ACT_TYPE_DEATH: CivilActType
POLICY_STATUS_UNSPECIFIED: PolicyStatus
POLICY_STATUS_VALID: PolicyStatus
POLICY_STATUS_EXPIRED: PolicyStatus
POLICY_STATUS_TERMINATED: PolicyStatus
LICENCE_STATUS_UNSPECIFIED: LicenceStatus
LICENCE_STATUS_VALID: LicenceStatus
LICENCE_STATUS_EXPIRED: LicenceStatus
LICENCE_STATUS_REVOKED: LicenceStatus
LICENCE_STATUS_SUSPENDED: LicenceStatus
FINE_STATUS_UNSPECIFIED: FineStatus
FINE_STATUS_UNPAID: FineStatus
FINE_STATUS_PAID: FineStatus
INSPECTION_STATUS_UNSPECIFIED: InspectionStatus
INSPECTION_STATUS_VALID: InspectionStatus
INSPECTION_STATUS_EXPIRED: InspectionStatus

class Date(_message.Message):
    __slots__ = ("year", "month", "day")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    DAY_FIELD_NUMBER: _ClassVar[int]
    year: int
    month: int
    day: int
    def __init__(self, year: _Optional[int] = ..., month: _Optional[int] = ..., day: _Optional[int] = ...) -> None: ...

class Person(_message.Message):
    __slots__ = ("iin", "last_name", "first_name", "patronymic", "sex", "birth_date", "birth_place", "citizenship", "deceased", "death_date", "document_number")
    IIN_FIELD_NUMBER: _ClassVar[int]
    LAST_NAME_FIELD_NUMBER: _ClassVar[int]
    FIRST_NAME_FIELD_NUMBER: _ClassVar[int]
    PATRONYMIC_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    BIRTH_PLACE_FIELD_NUMBER: _ClassVar[int]
    CITIZENSHIP_FIELD_NUMBER: _ClassVar[int]
    DECEASED_FIELD_NUMBER: _ClassVar[int]
    DEATH_DATE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    iin: str
    last_name: str
    first_name: str
    patronymic: str
    sex: Sex
    birth_date: Date
    birth_place: str
    citizenship: str
    deceased: bool
    death_date: Date
    document_number: str
    def __init__(self, iin: _Optional[str] = ..., last_name: _Optional[str] = ..., first_name: _Optional[str] = ..., patronymic: _Optional[str] = ..., sex: _Optional[_Union[Sex, str]] = ..., birth_date: _Optional[_Union[Date, _Mapping]] = ..., birth_place: _Optional[str] = ..., citizenship: _Optional[str] = ..., deceased: _Optional[bool] = ..., death_date: _Optional[_Union[Date, _Mapping]] = ..., document_number: _Optional[str] = ...) -> None: ...

class CivilAct(_message.Message):
    __slots__ = ("act_number", "type", "registered_on", "registry_office", "subject_iin", "role", "participant_iins")
    ACT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ON_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_OFFICE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_IIN_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_IINS_FIELD_NUMBER: _ClassVar[int]
    act_number: str
    type: CivilActType
    registered_on: Date
    registry_office: str
    subject_iin: str
    role: str
    participant_iins: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, act_number: _Optional[str] = ..., type: _Optional[_Union[CivilActType, str]] = ..., registered_on: _Optional[_Union[Date, _Mapping]] = ..., registry_office: _Optional[str] = ..., subject_iin: _Optional[str] = ..., role: _Optional[str] = ..., participant_iins: _Optional[_Iterable[str]] = ...) -> None: ...

class CivilActList(_message.Message):
    __slots__ = ("acts",)
    ACTS_FIELD_NUMBER: _ClassVar[int]
    acts: _containers.RepeatedCompositeFieldContainer[CivilAct]
    def __init__(self, acts: _Optional[_Iterable[_Union[CivilAct, _Mapping]]] = ...) -> None: ...

class Vehicle(_message.Message):
    __slots__ = ("plate", "vin", "make", "model", "year", "colour", "owner_iin", "registered_on", "status")
    PLATE_FIELD_NUMBER: _ClassVar[int]
    VIN_FIELD_NUMBER: _ClassVar[int]
    MAKE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    YEAR_FIELD_NUMBER: _ClassVar[int]
    COLOUR_FIELD_NUMBER: _ClassVar[int]
    OWNER_IIN_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    plate: str
    vin: str
    make: str
    model: str
    year: int
    colour: str
    owner_iin: str
    registered_on: Date
    status: str
    def __init__(self, plate: _Optional[str] = ..., vin: _Optional[str] = ..., make: _Optional[str] = ..., model: _Optional[str] = ..., year: _Optional[int] = ..., colour: _Optional[str] = ..., owner_iin: _Optional[str] = ..., registered_on: _Optional[_Union[Date, _Mapping]] = ..., status: _Optional[str] = ...) -> None: ...

class VehicleList(_message.Message):
    __slots__ = ("vehicles",)
    VEHICLES_FIELD_NUMBER: _ClassVar[int]
    vehicles: _containers.RepeatedCompositeFieldContainer[Vehicle]
    def __init__(self, vehicles: _Optional[_Iterable[_Union[Vehicle, _Mapping]]] = ...) -> None: ...

class InsurancePolicy(_message.Message):
    __slots__ = ("policy_number", "insurer", "plate", "vin", "holder_iin", "valid_from", "valid_to", "status")
    POLICY_NUMBER_FIELD_NUMBER: _ClassVar[int]
    INSURER_FIELD_NUMBER: _ClassVar[int]
    PLATE_FIELD_NUMBER: _ClassVar[int]
    VIN_FIELD_NUMBER: _ClassVar[int]
    HOLDER_IIN_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_TO_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    policy_number: str
    insurer: str
    plate: str
    vin: str
    holder_iin: str
    valid_from: Date
    valid_to: Date
    status: PolicyStatus
    def __init__(self, policy_number: _Optional[str] = ..., insurer: _Optional[str] = ..., plate: _Optional[str] = ..., vin: _Optional[str] = ..., holder_iin: _Optional[str] = ..., valid_from: _Optional[_Union[Date, _Mapping]] = ..., valid_to: _Optional[_Union[Date, _Mapping]] = ..., status: _Optional[_Union[PolicyStatus, str]] = ...) -> None: ...

class InsurancePolicyList(_message.Message):
    __slots__ = ("policies",)
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    policies: _containers.RepeatedCompositeFieldContainer[InsurancePolicy]
    def __init__(self, policies: _Optional[_Iterable[_Union[InsurancePolicy, _Mapping]]] = ...) -> None: ...

class DriverLicence(_message.Message):
    __slots__ = ("iin", "number", "categories", "status", "issued_on", "valid_to", "revoked_on", "revocation_reason")
    IIN_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ISSUED_ON_FIELD_NUMBER: _ClassVar[int]
    VALID_TO_FIELD_NUMBER: _ClassVar[int]
    REVOKED_ON_FIELD_NUMBER: _ClassVar[int]
    REVOCATION_REASON_FIELD_NUMBER: _ClassVar[int]
    iin: str
    number: str
    categories: _containers.RepeatedScalarFieldContainer[str]
    status: LicenceStatus
    issued_on: Date
    valid_to: Date
    revoked_on: Date
    revocation_reason: str
    def __init__(self, iin: _Optional[str] = ..., number: _Optional[str] = ..., categories: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[LicenceStatus, str]] = ..., issued_on: _Optional[_Union[Date, _Mapping]] = ..., valid_to: _Optional[_Union[Date, _Mapping]] = ..., revoked_on: _Optional[_Union[Date, _Mapping]] = ..., revocation_reason: _Optional[str] = ...) -> None: ...

class Fine(_message.Message):
    __slots__ = ("fine_number", "iin", "plate", "article", "description", "amount", "issued_on", "status", "paid_on")
    FINE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    IIN_FIELD_NUMBER: _ClassVar[int]
    PLATE_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ISSUED_ON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAID_ON_FIELD_NUMBER: _ClassVar[int]
    fine_number: str
    iin: str
    plate: str
    article: str
    description: str
    amount: int
    issued_on: Date
    status: FineStatus
    paid_on: Date
    def __init__(self, fine_number: _Optional[str] = ..., iin: _Optional[str] = ..., plate: _Optional[str] = ..., article: _Optional[str] = ..., description: _Optional[str] = ..., amount: _Optional[int] = ..., issued_on: _Optional[_Union[Date, _Mapping]] = ..., status: _Optional[_Union[FineStatus, str]] = ..., paid_on: _Optional[_Union[Date, _Mapping]] = ...) -> None: ...

class FineList(_message.Message):
    __slots__ = ("fines",)
    FINES_FIELD_NUMBER: _ClassVar[int]
    fines: _containers.RepeatedCompositeFieldContainer[Fine]
    def __init__(self, fines: _Optional[_Iterable[_Union[Fine, _Mapping]]] = ...) -> None: ...

class Inspection(_message.Message):
    __slots__ = ("certificate_number", "plate", "vin", "inspected_on", "valid_to", "result", "station", "status")
    CERTIFICATE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PLATE_FIELD_NUMBER: _ClassVar[int]
    VIN_FIELD_NUMBER: _ClassVar[int]
    INSPECTED_ON_FIELD_NUMBER: _ClassVar[int]
    VALID_TO_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    STATION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    certificate_number: str
    plate: str
    vin: str
    inspected_on: Date
    valid_to: Date
    result: str
    station: str
    status: InspectionStatus
    def __init__(self, certificate_number: _Optional[str] = ..., plate: _Optional[str] = ..., vin: _Optional[str] = ..., inspected_on: _Optional[_Union[Date, _Mapping]] = ..., valid_to: _Optional[_Union[Date, _Mapping]] = ..., result: _Optional[str] = ..., station: _Optional[str] = ..., status: _Optional[_Union[InspectionStatus, str]] = ...) -> None: ...

class Record(_message.Message):
    __slots__ = ("person", "civil_acts", "vehicle", "vehicles", "policies", "licence", "fines", "inspection", "generic", "extension", "type")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    CIVIL_ACTS_FIELD_NUMBER: _ClassVar[int]
    VEHICLE_FIELD_NUMBER: _ClassVar[int]
    VEHICLES_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    LICENCE_FIELD_NUMBER: _ClassVar[int]
    FINES_FIELD_NUMBER: _ClassVar[int]
    INSPECTION_FIELD_NUMBER: _ClassVar[int]
    GENERIC_FIELD_NUMBER: _ClassVar[int]
    EXTENSION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    person: Person
    civil_acts: CivilActList
    vehicle: Vehicle
    vehicles: VehicleList
    policies: InsurancePolicyList
    licence: DriverLicence
    fines: FineList
    inspection: Inspection
    generic: _struct_pb2.Struct
    extension: _any_pb2.Any
    type: str
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ..., civil_acts: _Optional[_Union[CivilActList, _Mapping]] = ..., vehicle: _Optional[_Union[Vehicle, _Mapping]] = ..., vehicles: _Optional[_Union[VehicleList, _Mapping]] = ..., policies: _Optional[_Union[InsurancePolicyList, _Mapping]] = ..., licence: _Optional[_Union[DriverLicence, _Mapping]] = ..., fines: _Optional[_Union[FineList, _Mapping]] = ..., inspection: _Optional[_Union[Inspection, _Mapping]] = ..., generic: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., extension: _Optional[_Union[_any_pb2.Any, _Mapping]] = ..., type: _Optional[str] = ...) -> None: ...
