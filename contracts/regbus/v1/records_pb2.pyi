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

class EntityStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ENTITY_STATUS_UNSPECIFIED: _ClassVar[EntityStatus]
    ENTITY_STATUS_ACTIVE: _ClassVar[EntityStatus]
    ENTITY_STATUS_LIQUIDATED: _ClassVar[EntityStatus]

class RegistrationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REGISTRATION_KIND_UNSPECIFIED: _ClassVar[RegistrationKind]
    REGISTRATION_KIND_PERMANENT: _ClassVar[RegistrationKind]
    REGISTRATION_KIND_TEMPORARY: _ClassVar[RegistrationKind]

class BenefitStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BENEFIT_STATUS_UNSPECIFIED: _ClassVar[BenefitStatus]
    BENEFIT_STATUS_ACTIVE: _ClassVar[BenefitStatus]
    BENEFIT_STATUS_PAID: _ClassVar[BenefitStatus]
    BENEFIT_STATUS_ENDED: _ClassVar[BenefitStatus]

class QueueStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUEUE_STATUS_UNSPECIFIED: _ClassVar[QueueStatus]
    QUEUE_STATUS_WAITING: _ClassVar[QueueStatus]
    QUEUE_STATUS_ENROLLED: _ClassVar[QueueStatus]

class CertificateStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CERTIFICATE_STATUS_UNSPECIFIED: _ClassVar[CertificateStatus]
    CERTIFICATE_STATUS_VALID: _ClassVar[CertificateStatus]
    CERTIFICATE_STATUS_EXPIRED: _ClassVar[CertificateStatus]
    CERTIFICATE_STATUS_REVOKED: _ClassVar[CertificateStatus]
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
ENTITY_STATUS_UNSPECIFIED: EntityStatus
ENTITY_STATUS_ACTIVE: EntityStatus
ENTITY_STATUS_LIQUIDATED: EntityStatus
REGISTRATION_KIND_UNSPECIFIED: RegistrationKind
REGISTRATION_KIND_PERMANENT: RegistrationKind
REGISTRATION_KIND_TEMPORARY: RegistrationKind
BENEFIT_STATUS_UNSPECIFIED: BenefitStatus
BENEFIT_STATUS_ACTIVE: BenefitStatus
BENEFIT_STATUS_PAID: BenefitStatus
BENEFIT_STATUS_ENDED: BenefitStatus
QUEUE_STATUS_UNSPECIFIED: QueueStatus
QUEUE_STATUS_WAITING: QueueStatus
QUEUE_STATUS_ENROLLED: QueueStatus
CERTIFICATE_STATUS_UNSPECIFIED: CertificateStatus
CERTIFICATE_STATUS_VALID: CertificateStatus
CERTIFICATE_STATUS_EXPIRED: CertificateStatus
CERTIFICATE_STATUS_REVOKED: CertificateStatus

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

class IinAssignment(_message.Message):
    __slots__ = ("iin", "birth_act_number", "assigned_on", "sex", "birth_date")
    IIN_FIELD_NUMBER: _ClassVar[int]
    BIRTH_ACT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_ON_FIELD_NUMBER: _ClassVar[int]
    SEX_FIELD_NUMBER: _ClassVar[int]
    BIRTH_DATE_FIELD_NUMBER: _ClassVar[int]
    iin: str
    birth_act_number: str
    assigned_on: Date
    sex: Sex
    birth_date: Date
    def __init__(self, iin: _Optional[str] = ..., birth_act_number: _Optional[str] = ..., assigned_on: _Optional[_Union[Date, _Mapping]] = ..., sex: _Optional[_Union[Sex, str]] = ..., birth_date: _Optional[_Union[Date, _Mapping]] = ...) -> None: ...

class EntityHead(_message.Message):
    __slots__ = ("iin", "full_name", "position", "since")
    IIN_FIELD_NUMBER: _ClassVar[int]
    FULL_NAME_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    iin: str
    full_name: str
    position: str
    since: Date
    def __init__(self, iin: _Optional[str] = ..., full_name: _Optional[str] = ..., position: _Optional[str] = ..., since: _Optional[_Union[Date, _Mapping]] = ...) -> None: ...

class LegalEntity(_message.Message):
    __slots__ = ("bin", "name", "legal_form", "registered_on", "city", "address_code", "activity", "status", "liquidated_on", "heads")
    BIN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LEGAL_FORM_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ON_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_CODE_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LIQUIDATED_ON_FIELD_NUMBER: _ClassVar[int]
    HEADS_FIELD_NUMBER: _ClassVar[int]
    bin: str
    name: str
    legal_form: str
    registered_on: Date
    city: str
    address_code: str
    activity: str
    status: EntityStatus
    liquidated_on: Date
    heads: _containers.RepeatedCompositeFieldContainer[EntityHead]
    def __init__(self, bin: _Optional[str] = ..., name: _Optional[str] = ..., legal_form: _Optional[str] = ..., registered_on: _Optional[_Union[Date, _Mapping]] = ..., city: _Optional[str] = ..., address_code: _Optional[str] = ..., activity: _Optional[str] = ..., status: _Optional[_Union[EntityStatus, str]] = ..., liquidated_on: _Optional[_Union[Date, _Mapping]] = ..., heads: _Optional[_Iterable[_Union[EntityHead, _Mapping]]] = ...) -> None: ...

class EntityHeadList(_message.Message):
    __slots__ = ("heads",)
    HEADS_FIELD_NUMBER: _ClassVar[int]
    heads: _containers.RepeatedCompositeFieldContainer[EntityHead]
    def __init__(self, heads: _Optional[_Iterable[_Union[EntityHead, _Mapping]]] = ...) -> None: ...

class Address(_message.Message):
    __slots__ = ("code", "region", "city", "street", "house", "flat", "kind", "region_code")
    CODE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    STREET_FIELD_NUMBER: _ClassVar[int]
    HOUSE_FIELD_NUMBER: _ClassVar[int]
    FLAT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REGION_CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    region: str
    city: str
    street: str
    house: str
    flat: str
    kind: str
    region_code: str
    def __init__(self, code: _Optional[str] = ..., region: _Optional[str] = ..., city: _Optional[str] = ..., street: _Optional[str] = ..., house: _Optional[str] = ..., flat: _Optional[str] = ..., kind: _Optional[str] = ..., region_code: _Optional[str] = ...) -> None: ...

class ResidenceRegistration(_message.Message):
    __slots__ = ("iin", "address", "kind", "registered_on", "valid_to")
    IIN_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ON_FIELD_NUMBER: _ClassVar[int]
    VALID_TO_FIELD_NUMBER: _ClassVar[int]
    iin: str
    address: Address
    kind: RegistrationKind
    registered_on: Date
    valid_to: Date
    def __init__(self, iin: _Optional[str] = ..., address: _Optional[_Union[Address, _Mapping]] = ..., kind: _Optional[_Union[RegistrationKind, str]] = ..., registered_on: _Optional[_Union[Date, _Mapping]] = ..., valid_to: _Optional[_Union[Date, _Mapping]] = ...) -> None: ...

class Property(_message.Message):
    __slots__ = ("cadastral_number", "kind", "address_code", "area", "rooms", "owner", "acquired_on", "encumbered")
    CADASTRAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_CODE_FIELD_NUMBER: _ClassVar[int]
    AREA_FIELD_NUMBER: _ClassVar[int]
    ROOMS_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ACQUIRED_ON_FIELD_NUMBER: _ClassVar[int]
    ENCUMBERED_FIELD_NUMBER: _ClassVar[int]
    cadastral_number: str
    kind: str
    address_code: str
    area: float
    rooms: int
    owner: str
    acquired_on: Date
    encumbered: bool
    def __init__(self, cadastral_number: _Optional[str] = ..., kind: _Optional[str] = ..., address_code: _Optional[str] = ..., area: _Optional[float] = ..., rooms: _Optional[int] = ..., owner: _Optional[str] = ..., acquired_on: _Optional[_Union[Date, _Mapping]] = ..., encumbered: _Optional[bool] = ...) -> None: ...

class PropertyList(_message.Message):
    __slots__ = ("properties",)
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    properties: _containers.RepeatedCompositeFieldContainer[Property]
    def __init__(self, properties: _Optional[_Iterable[_Union[Property, _Mapping]]] = ...) -> None: ...

class Encumbrance(_message.Message):
    __slots__ = ("encumbrance_number", "cadastral_number", "kind", "holder", "holder_bin", "registered_on", "until")
    ENCUMBRANCE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    CADASTRAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    HOLDER_FIELD_NUMBER: _ClassVar[int]
    HOLDER_BIN_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ON_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    encumbrance_number: str
    cadastral_number: str
    kind: str
    holder: str
    holder_bin: str
    registered_on: Date
    until: Date
    def __init__(self, encumbrance_number: _Optional[str] = ..., cadastral_number: _Optional[str] = ..., kind: _Optional[str] = ..., holder: _Optional[str] = ..., holder_bin: _Optional[str] = ..., registered_on: _Optional[_Union[Date, _Mapping]] = ..., until: _Optional[_Union[Date, _Mapping]] = ...) -> None: ...

class EncumbranceList(_message.Message):
    __slots__ = ("encumbrances",)
    ENCUMBRANCES_FIELD_NUMBER: _ClassVar[int]
    encumbrances: _containers.RepeatedCompositeFieldContainer[Encumbrance]
    def __init__(self, encumbrances: _Optional[_Iterable[_Union[Encumbrance, _Mapping]]] = ...) -> None: ...

class Parcel(_message.Message):
    __slots__ = ("cadastral_number", "purpose", "area_ha", "region", "owner", "acquired_on")
    CADASTRAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    AREA_HA_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    ACQUIRED_ON_FIELD_NUMBER: _ClassVar[int]
    cadastral_number: str
    purpose: str
    area_ha: float
    region: str
    owner: str
    acquired_on: Date
    def __init__(self, cadastral_number: _Optional[str] = ..., purpose: _Optional[str] = ..., area_ha: _Optional[float] = ..., region: _Optional[str] = ..., owner: _Optional[str] = ..., acquired_on: _Optional[_Union[Date, _Mapping]] = ...) -> None: ...

class ParcelList(_message.Message):
    __slots__ = ("parcels",)
    PARCELS_FIELD_NUMBER: _ClassVar[int]
    parcels: _containers.RepeatedCompositeFieldContainer[Parcel]
    def __init__(self, parcels: _Optional[_Iterable[_Union[Parcel, _Mapping]]] = ...) -> None: ...

class RegisterCheck(_message.Message):
    __slots__ = ("iin", "register", "registered", "registered_on", "dispensary")
    IIN_FIELD_NUMBER: _ClassVar[int]
    REGISTER_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ON_FIELD_NUMBER: _ClassVar[int]
    DISPENSARY_FIELD_NUMBER: _ClassVar[int]
    iin: str
    register: str
    registered: bool
    registered_on: Date
    dispensary: str
    def __init__(self, iin: _Optional[str] = ..., register: _Optional[str] = ..., registered: _Optional[bool] = ..., registered_on: _Optional[_Union[Date, _Mapping]] = ..., dispensary: _Optional[str] = ...) -> None: ...

class Vaccination(_message.Message):
    __slots__ = ("vaccine", "date")
    VACCINE_FIELD_NUMBER: _ClassVar[int]
    DATE_FIELD_NUMBER: _ClassVar[int]
    vaccine: str
    date: Date
    def __init__(self, vaccine: _Optional[str] = ..., date: _Optional[_Union[Date, _Mapping]] = ...) -> None: ...

class HealthSummary(_message.Message):
    __slots__ = ("iin", "clinic", "attached_on", "disability_group", "vaccinations")
    IIN_FIELD_NUMBER: _ClassVar[int]
    CLINIC_FIELD_NUMBER: _ClassVar[int]
    ATTACHED_ON_FIELD_NUMBER: _ClassVar[int]
    DISABILITY_GROUP_FIELD_NUMBER: _ClassVar[int]
    VACCINATIONS_FIELD_NUMBER: _ClassVar[int]
    iin: str
    clinic: str
    attached_on: Date
    disability_group: str
    vaccinations: _containers.RepeatedCompositeFieldContainer[Vaccination]
    def __init__(self, iin: _Optional[str] = ..., clinic: _Optional[str] = ..., attached_on: _Optional[_Union[Date, _Mapping]] = ..., disability_group: _Optional[str] = ..., vaccinations: _Optional[_Iterable[_Union[Vaccination, _Mapping]]] = ...) -> None: ...

class Conviction(_message.Message):
    __slots__ = ("article", "description", "convicted_on", "court", "sentence")
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONVICTED_ON_FIELD_NUMBER: _ClassVar[int]
    COURT_FIELD_NUMBER: _ClassVar[int]
    SENTENCE_FIELD_NUMBER: _ClassVar[int]
    article: str
    description: str
    convicted_on: Date
    court: str
    sentence: str
    def __init__(self, article: _Optional[str] = ..., description: _Optional[str] = ..., convicted_on: _Optional[_Union[Date, _Mapping]] = ..., court: _Optional[str] = ..., sentence: _Optional[str] = ...) -> None: ...

class CriminalRecord(_message.Message):
    __slots__ = ("iin", "has_record", "convictions")
    IIN_FIELD_NUMBER: _ClassVar[int]
    HAS_RECORD_FIELD_NUMBER: _ClassVar[int]
    CONVICTIONS_FIELD_NUMBER: _ClassVar[int]
    iin: str
    has_record: bool
    convictions: _containers.RepeatedCompositeFieldContainer[Conviction]
    def __init__(self, iin: _Optional[str] = ..., has_record: _Optional[bool] = ..., convictions: _Optional[_Iterable[_Union[Conviction, _Mapping]]] = ...) -> None: ...

class MigrationRegistration(_message.Message):
    __slots__ = ("iin", "citizenship", "document_number", "purpose", "address_code", "registered_on", "valid_to", "status", "registration_number")
    IIN_FIELD_NUMBER: _ClassVar[int]
    CITIZENSHIP_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_CODE_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ON_FIELD_NUMBER: _ClassVar[int]
    VALID_TO_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_NUMBER_FIELD_NUMBER: _ClassVar[int]
    iin: str
    citizenship: str
    document_number: str
    purpose: str
    address_code: str
    registered_on: Date
    valid_to: Date
    status: str
    registration_number: str
    def __init__(self, iin: _Optional[str] = ..., citizenship: _Optional[str] = ..., document_number: _Optional[str] = ..., purpose: _Optional[str] = ..., address_code: _Optional[str] = ..., registered_on: _Optional[_Union[Date, _Mapping]] = ..., valid_to: _Optional[_Union[Date, _Mapping]] = ..., status: _Optional[str] = ..., registration_number: _Optional[str] = ...) -> None: ...

class TaxDebtItem(_message.Message):
    __slots__ = ("tax", "amount", "due_date")
    TAX_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    tax: str
    amount: int
    due_date: Date
    def __init__(self, tax: _Optional[str] = ..., amount: _Optional[int] = ..., due_date: _Optional[_Union[Date, _Mapping]] = ...) -> None: ...

class TaxDebt(_message.Message):
    __slots__ = ("taxpayer", "total", "items")
    TAXPAYER_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    taxpayer: str
    total: int
    items: _containers.RepeatedCompositeFieldContainer[TaxDebtItem]
    def __init__(self, taxpayer: _Optional[str] = ..., total: _Optional[int] = ..., items: _Optional[_Iterable[_Union[TaxDebtItem, _Mapping]]] = ...) -> None: ...

class PensionContribution(_message.Message):
    __slots__ = ("period", "amount", "agent")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    AGENT_FIELD_NUMBER: _ClassVar[int]
    period: str
    amount: int
    agent: str
    def __init__(self, period: _Optional[str] = ..., amount: _Optional[int] = ..., agent: _Optional[str] = ...) -> None: ...

class PensionAccount(_message.Message):
    __slots__ = ("iin", "balance", "contributions")
    IIN_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    CONTRIBUTIONS_FIELD_NUMBER: _ClassVar[int]
    iin: str
    balance: int
    contributions: _containers.RepeatedCompositeFieldContainer[PensionContribution]
    def __init__(self, iin: _Optional[str] = ..., balance: _Optional[int] = ..., contributions: _Optional[_Iterable[_Union[PensionContribution, _Mapping]]] = ...) -> None: ...

class Benefit(_message.Message):
    __slots__ = ("benefit_number", "iin", "kind", "amount", "assigned_on", "status", "child_iin", "until")
    BENEFIT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    IIN_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_ON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHILD_IIN_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    benefit_number: str
    iin: str
    kind: str
    amount: int
    assigned_on: Date
    status: BenefitStatus
    child_iin: str
    until: Date
    def __init__(self, benefit_number: _Optional[str] = ..., iin: _Optional[str] = ..., kind: _Optional[str] = ..., amount: _Optional[int] = ..., assigned_on: _Optional[_Union[Date, _Mapping]] = ..., status: _Optional[_Union[BenefitStatus, str]] = ..., child_iin: _Optional[str] = ..., until: _Optional[_Union[Date, _Mapping]] = ...) -> None: ...

class BenefitList(_message.Message):
    __slots__ = ("benefits",)
    BENEFITS_FIELD_NUMBER: _ClassVar[int]
    benefits: _containers.RepeatedCompositeFieldContainer[Benefit]
    def __init__(self, benefits: _Optional[_Iterable[_Union[Benefit, _Mapping]]] = ...) -> None: ...

class QueueEntry(_message.Message):
    __slots__ = ("child_iin", "city", "queued_on", "status", "position", "kindergarten")
    CHILD_IIN_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    QUEUED_ON_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    KINDERGARTEN_FIELD_NUMBER: _ClassVar[int]
    child_iin: str
    city: str
    queued_on: Date
    status: QueueStatus
    position: int
    kindergarten: str
    def __init__(self, child_iin: _Optional[str] = ..., city: _Optional[str] = ..., queued_on: _Optional[_Union[Date, _Mapping]] = ..., status: _Optional[_Union[QueueStatus, str]] = ..., position: _Optional[int] = ..., kindergarten: _Optional[str] = ...) -> None: ...

class PhoneStatus(_message.Message):
    __slots__ = ("iin", "has_phone", "phone_masked", "operator", "registered_on")
    IIN_FIELD_NUMBER: _ClassVar[int]
    HAS_PHONE_FIELD_NUMBER: _ClassVar[int]
    PHONE_MASKED_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_ON_FIELD_NUMBER: _ClassVar[int]
    iin: str
    has_phone: bool
    phone_masked: str
    operator: str
    registered_on: Date
    def __init__(self, iin: _Optional[str] = ..., has_phone: _Optional[bool] = ..., phone_masked: _Optional[str] = ..., operator: _Optional[str] = ..., registered_on: _Optional[_Union[Date, _Mapping]] = ...) -> None: ...

class CodeSent(_message.Message):
    __slots__ = ("iin", "code_id", "phone_masked", "expires_at")
    IIN_FIELD_NUMBER: _ClassVar[int]
    CODE_ID_FIELD_NUMBER: _ClassVar[int]
    PHONE_MASKED_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    iin: str
    code_id: str
    phone_masked: str
    expires_at: str
    def __init__(self, iin: _Optional[str] = ..., code_id: _Optional[str] = ..., phone_masked: _Optional[str] = ..., expires_at: _Optional[str] = ...) -> None: ...

class CodeCheck(_message.Message):
    __slots__ = ("code_id", "iin", "verified", "attempts_left")
    CODE_ID_FIELD_NUMBER: _ClassVar[int]
    IIN_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_LEFT_FIELD_NUMBER: _ClassVar[int]
    code_id: str
    iin: str
    verified: bool
    attempts_left: int
    def __init__(self, code_id: _Optional[str] = ..., iin: _Optional[str] = ..., verified: _Optional[bool] = ..., attempts_left: _Optional[int] = ...) -> None: ...

class Certificate(_message.Message):
    __slots__ = ("serial", "iin", "kind", "valid_from", "valid_to", "status")
    SERIAL_FIELD_NUMBER: _ClassVar[int]
    IIN_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALID_FROM_FIELD_NUMBER: _ClassVar[int]
    VALID_TO_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    serial: str
    iin: str
    kind: str
    valid_from: Date
    valid_to: Date
    status: CertificateStatus
    def __init__(self, serial: _Optional[str] = ..., iin: _Optional[str] = ..., kind: _Optional[str] = ..., valid_from: _Optional[_Union[Date, _Mapping]] = ..., valid_to: _Optional[_Union[Date, _Mapping]] = ..., status: _Optional[_Union[CertificateStatus, str]] = ...) -> None: ...

class Record(_message.Message):
    __slots__ = ("person", "civil_acts", "vehicle", "vehicles", "policies", "licence", "fines", "inspection", "iin_assignment", "entity", "entity_heads", "address", "registration", "properties", "encumbrances", "parcels", "register_check", "health", "criminal_record", "migration", "tax_debt", "pension", "benefits", "benefit", "queue_entry", "phone", "code_sent", "code_check", "certificate", "civil_act", "generic", "extension", "type")
    PERSON_FIELD_NUMBER: _ClassVar[int]
    CIVIL_ACTS_FIELD_NUMBER: _ClassVar[int]
    VEHICLE_FIELD_NUMBER: _ClassVar[int]
    VEHICLES_FIELD_NUMBER: _ClassVar[int]
    POLICIES_FIELD_NUMBER: _ClassVar[int]
    LICENCE_FIELD_NUMBER: _ClassVar[int]
    FINES_FIELD_NUMBER: _ClassVar[int]
    INSPECTION_FIELD_NUMBER: _ClassVar[int]
    IIN_ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    ENTITY_HEADS_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REGISTRATION_FIELD_NUMBER: _ClassVar[int]
    PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    ENCUMBRANCES_FIELD_NUMBER: _ClassVar[int]
    PARCELS_FIELD_NUMBER: _ClassVar[int]
    REGISTER_CHECK_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    CRIMINAL_RECORD_FIELD_NUMBER: _ClassVar[int]
    MIGRATION_FIELD_NUMBER: _ClassVar[int]
    TAX_DEBT_FIELD_NUMBER: _ClassVar[int]
    PENSION_FIELD_NUMBER: _ClassVar[int]
    BENEFITS_FIELD_NUMBER: _ClassVar[int]
    BENEFIT_FIELD_NUMBER: _ClassVar[int]
    QUEUE_ENTRY_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    CODE_SENT_FIELD_NUMBER: _ClassVar[int]
    CODE_CHECK_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    CIVIL_ACT_FIELD_NUMBER: _ClassVar[int]
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
    iin_assignment: IinAssignment
    entity: LegalEntity
    entity_heads: EntityHeadList
    address: Address
    registration: ResidenceRegistration
    properties: PropertyList
    encumbrances: EncumbranceList
    parcels: ParcelList
    register_check: RegisterCheck
    health: HealthSummary
    criminal_record: CriminalRecord
    migration: MigrationRegistration
    tax_debt: TaxDebt
    pension: PensionAccount
    benefits: BenefitList
    benefit: Benefit
    queue_entry: QueueEntry
    phone: PhoneStatus
    code_sent: CodeSent
    code_check: CodeCheck
    certificate: Certificate
    civil_act: CivilAct
    generic: _struct_pb2.Struct
    extension: _any_pb2.Any
    type: str
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ..., civil_acts: _Optional[_Union[CivilActList, _Mapping]] = ..., vehicle: _Optional[_Union[Vehicle, _Mapping]] = ..., vehicles: _Optional[_Union[VehicleList, _Mapping]] = ..., policies: _Optional[_Union[InsurancePolicyList, _Mapping]] = ..., licence: _Optional[_Union[DriverLicence, _Mapping]] = ..., fines: _Optional[_Union[FineList, _Mapping]] = ..., inspection: _Optional[_Union[Inspection, _Mapping]] = ..., iin_assignment: _Optional[_Union[IinAssignment, _Mapping]] = ..., entity: _Optional[_Union[LegalEntity, _Mapping]] = ..., entity_heads: _Optional[_Union[EntityHeadList, _Mapping]] = ..., address: _Optional[_Union[Address, _Mapping]] = ..., registration: _Optional[_Union[ResidenceRegistration, _Mapping]] = ..., properties: _Optional[_Union[PropertyList, _Mapping]] = ..., encumbrances: _Optional[_Union[EncumbranceList, _Mapping]] = ..., parcels: _Optional[_Union[ParcelList, _Mapping]] = ..., register_check: _Optional[_Union[RegisterCheck, _Mapping]] = ..., health: _Optional[_Union[HealthSummary, _Mapping]] = ..., criminal_record: _Optional[_Union[CriminalRecord, _Mapping]] = ..., migration: _Optional[_Union[MigrationRegistration, _Mapping]] = ..., tax_debt: _Optional[_Union[TaxDebt, _Mapping]] = ..., pension: _Optional[_Union[PensionAccount, _Mapping]] = ..., benefits: _Optional[_Union[BenefitList, _Mapping]] = ..., benefit: _Optional[_Union[Benefit, _Mapping]] = ..., queue_entry: _Optional[_Union[QueueEntry, _Mapping]] = ..., phone: _Optional[_Union[PhoneStatus, _Mapping]] = ..., code_sent: _Optional[_Union[CodeSent, _Mapping]] = ..., code_check: _Optional[_Union[CodeCheck, _Mapping]] = ..., certificate: _Optional[_Union[Certificate, _Mapping]] = ..., civil_act: _Optional[_Union[CivilAct, _Mapping]] = ..., generic: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., extension: _Optional[_Union[_any_pb2.Any, _Mapping]] = ..., type: _Optional[str] = ...) -> None: ...
