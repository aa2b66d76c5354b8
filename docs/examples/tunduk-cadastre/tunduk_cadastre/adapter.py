"""The land cadastre: a declaration, checked against cadastre.wsdl when it loads."""

from importlib.resources import files

from regbus.kit import IIN, Faults, Into, Operation, Param, Registry, Sample, XRoad, pattern

WSDL = files("tunduk_cadastre") / "cadastre.wsdl"
NUMBER = pattern("cadastral_number", r"[0-9]-[0-9]{2}-[0-9]{2}-[0-9]{4}-[0-9]{4}")
# Record field: path in the answer (the same name unless given).
PARCEL = {f: f for f in ("number", "address", "purpose", "encumbered")}
PARCEL |= {"owner_iin": "ownerIin", "area_sqm": "areaSqm"}

CADASTRE = Registry(
    registry="cadastre",
    name="Land cadastre (Tunduk)",
    wire=XRoad(WSDL, Faults("ServiceFault", not_found=("PARCEL_NOT_FOUND",))),
    operations=(
        Operation(
            "get_parcel",
            (Param("number", NUMBER),),
            call="GetParcel",
            record=Into("generic", PARCEL, at="parcel", type="kg.cadastre.Parcel"),
            echo={"number": "number"},
            sample=Sample(
                {"number": "1-02-03-0004-0005"},
                unknown={"number": "9-99-99-9999-9999"},
                other={"number": "1-02-03-0004-0017"},
            ),
        ),
        Operation(
            "list_parcels",
            (Param("iin", IIN),),
            call="ListParcels",
            record=Into("generic", PARCEL, each="parcel", type="kg.cadastre.Parcels"),
            echo={"iin": "owner_iin"},
            sample=Sample({"iin": "850314354052"}, other={"iin": "690214412868"}),
        ),
    ),
)
