"""НУЦ (national certification authority) certificate status, a REST/JSON API
(``adapters/openapi/pki.json``).

``check_certificate`` by the certificate's serial number (40 hexadecimal digits, upper
case): whose it is (IIN), what it is for (SIGN or AUTH), its validity period and status
(valid, expired, revoked). A serial the authority never issued is a business "not found"
(HTTP 404). Public: a certificate's subject is in the certificate itself.
"""

from importlib.resources import files

from regbus.adapters.kinds import pattern
from regbus.adapters.spec import Into, Operation, Param, Registry, Rest, Sample

SERIAL = pattern("serial", r"[0-9A-F]{40}", like="5F3A9C1E7B2D4086A1C3E5F7092B4D6E8A0C1E3F")

CERTIFICATE = {
    "serial": "serial",
    "iin": "subject.iin",
    "kind": "kind",
    "valid_from": "valid_from",
    "valid_to": "valid_to",
    "status": "status",
}

PKI = Registry(
    registry="pki",
    name="Certificate status (NUC RK)",
    wire=Rest(openapi=files("regbus.adapters") / "openapi" / "pki.json"),
    sensitivity=("public",),
    operations=(
        Operation(
            "check_certificate",
            (Param("serial", SERIAL),),
            call="GET /certificates/{serial}",
            record=Into("certificate", CERTIFICATE),
            echo={"serial": "serial"},
            sample=Sample(
                {"serial": "5F3A9C1E7B2D4086A1C3E5F7092B4D6E8A0C1E3F"},  # Akhmetov's SIGN
                unknown={"serial": "0000000000000000000000000000000000000001"},
                # A generated certificate of the default population.
                other={"serial": "6283FAAC9E6479C1A7DBCC17747F257B84ABF0E6"},
            ),
        ),
    ),
)
