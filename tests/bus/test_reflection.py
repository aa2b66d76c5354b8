"""Server reflection describes `extension` records: an integrator's message, not regbus's."""

from __future__ import annotations

from types import ModuleType

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from regbus.adapters.mapping import to_record
from regbus.adapters.spec import Into
from regbus.adapters.views import JsonView
from regbus.v1 import records_pb2


async def _files_containing(channel: grpc.aio.Channel, symbol: str) -> list[bytes]:
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol)
    files: list[bytes] = []
    async for reply in stub.ServerReflectionInfo(iter([request])):
        assert not reply.HasField("error_response"), reply.error_response.error_message
        files += reply.file_descriptor_response.file_descriptor_proto
    return files


async def test_reflection_lets_a_client_decode_an_extension_record(
    channel: grpc.aio.Channel, parcel_pb2: ModuleType
) -> None:
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in await _files_containing(channel, "kg.land.v1.Parcel")
    ]
    (parcel_file,) = [f for f in files if f.package == "kg.land.v1"]
    assert parcel_file.name == "kg/land/v1/parcel.proto"
    assert "Parcel" in [m.name for m in parcel_file.message_type]

    # A client that knows only what reflection told it decodes the record's Any.
    into = Into(
        "extension", {"number": "n", "area": "a", "owner_iin": "o"}, type="kg.land.v1.Parcel"
    )
    sent = to_record(into, JsonView({"n": "21:320:018", "a": 12.5, "o": "850314354052"}), {})
    received = records_pb2.Record.FromString(sent.SerializeToString())
    pool = descriptor_pool.DescriptorPool()
    for file in files:
        pool.Add(file)
    parcel = message_factory.GetMessageClass(pool.FindMessageTypeByName(received.type))()
    assert received.extension.Unpack(parcel)
    assert (parcel.number, parcel.area, parcel.owner_iin) == ("21:320:018", 12.5, "850314354052")
