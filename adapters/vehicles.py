"""МВД vehicle registration, a REST/JSON API (``adapters/openapi/vehicles.json``).

The registry indexes vehicles, not people: an owner it has never seen simply
owns nothing, so ``list_vehicles_by_owner`` answers an empty list; an unknown
plate or VIN is a business "not found".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from regbus.adapters.base import Adapter, AdapterSpec, CallContext, Endpoint, Operation, Param
from regbus.adapters.errors import UnknownOperation
from regbus.adapters.rest import RestClient
from regbus.v1 import records_pb2


class VehiclesAdapter(Adapter):
    spec: ClassVar[AdapterSpec] = AdapterSpec(
        registry="vehicles",
        name="Vehicle registration (MVD)",
        protocol="rest",
        operations=(
            Operation(
                "get_vehicle",
                (Param("plate", "plate", required=False), Param("vin", "vin", required=False)),
                one_of=("plate", "vin"),
            ),
            Operation("list_vehicles_by_owner", (Param("iin", "iin"),)),
        ),
    )

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(endpoint)
        self._api = RestClient(endpoint, registry="vehicles")

    async def call(
        self, operation: str, params: Mapping[str, str], context: CallContext
    ) -> records_pb2.Record:
        if operation == "get_vehicle":
            body = await self._api.get_json("vehicles", operation, params=params, context=context)
            return records_pb2.Record(vehicle=self._vehicle(body, operation))
        if operation == "list_vehicles_by_owner":
            body = await self._api.get_json(
                f"owners/{params['iin']}/vehicles", operation, context=context
            )
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise self._api.malformed("no list of items", operation)
            vehicles = [self._vehicle(item, operation) for item in items]
            return records_pb2.Record(vehicles=records_pb2.VehicleList(vehicles=vehicles))
        raise UnknownOperation(f"no operation {operation!r}", registry="vehicles")

    def _vehicle(self, body: Any, operation: str) -> records_pb2.Vehicle:
        try:
            year, month, day = (int(x) for x in str(body.get("registeredOn", "")).split("-"))
            return records_pb2.Vehicle(
                plate=str(body["plate"]),
                vin=str(body["vin"]),
                make=str(body["make"]),
                model=str(body["model"]),
                year=int(body["year"]),
                colour=str(body.get("colour", "")),
                owner_iin=str(body["owner"]["iin"]),
                registered_on=records_pb2.Date(year=year, month=month, day=day),
                status=str(body.get("status", "")),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise self._api.malformed(f"unreadable vehicle ({exc!r})", operation) from exc

    async def aclose(self) -> None:
        await self._api.aclose()
