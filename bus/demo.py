"""``regbus demo``: the bus and its mock registries in one process, and a tour of them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import httpx

from regbus.adapters.mobile import DEMO_CODE, DEMO_CODE_ID
from regbus.bus.client import failure
from regbus.bus.config import Config, ServerSettings
from regbus.bus.consent import CODE_HEADER
from regbus.bus.describe import compose_table, describe, registry_table
from regbus.bus.embedded import start_embedded
from regbus.circuit.policy import BreakerPolicy, Policy, RetryPolicy
from regbus.v1 import bus_pb2, bus_pb2_grpc

# Short timeouts so the tour takes seconds, not minutes.
DEMO_POLICY = Policy(
    timeout=1.0,
    retry=RetryPolicy(attempts=2, backoff_initial=0.05, backoff_max=0.2),
    breaker=BreakerPolicy(fail_max=3, reset_timeout=3.0),
)


async def run_demo() -> int:
    config = Config(
        server=ServerSettings(grpc_port=0, http_port=0),
        policy=DEMO_POLICY,
        source="demo with built-in mock registries",
    )
    running = await start_embedded(config, mocks_port=0)
    bus = running.bus
    target = f"127.0.0.1:{bus.grpc_port}"
    print(
        f"regbus demo: bus on {target}, metrics on http://127.0.0.1:{bus.http_port}/metrics,"
        f" mock registries on {running.mocks_url}"
        f" ({', '.join(sorted(running.mocks.registries))})\n"
    )
    # Every request says who asks and why; the bus knows the client from the connection
    # (in demo mode: the client "demo", unauthenticated on loopback).
    context = bus_pb2.RequestContext(operator_id="op-1", purpose="demo")
    try:
        async with grpc.aio.insecure_channel(target) as channel, httpx.AsyncClient() as http:
            stub = bus_pb2_grpc.RegistryBusStub(channel)

            async def query(
                registry: str,
                operation: str,
                *,
                why: bus_pb2.RequestContext = context,
                consent: str = "",
                **params: str,
            ) -> None:
                request = bus_pb2.QueryRequest(
                    registry=registry, operation=operation, params=params, context=why
                )
                metadata = [(CODE_HEADER, consent)] if consent else []
                started = time.monotonic()
                try:
                    response = await stub.Query(request, timeout=10, metadata=metadata)
                except grpc.aio.AioRpcError as exc:
                    ms = (time.monotonic() - started) * 1000
                    f = failure(exc)
                    print(
                        f"  ✗ {registry}.{operation} {_args(params)} → {f.code} {f.reason}"
                        f" in {ms:.0f} ms: {f.message}"
                    )
                    return
                ms = (time.monotonic() - started) * 1000
                print(
                    f"  ✓ {registry}.{operation} {_args(params)} → {describe(response.record)}"
                    f" ({response.source.attempts} attempt(s), {ms:.0f} ms)"
                )

            async def fault(registry: str, mode: str) -> None:
                await http.put(f"{running.mocks_url}/_faults/{registry}", content=mode)
                print(f"\n$ regbus fault {registry} {mode}")

            print("1. One contract in front of registries in four wire styles:")
            await query("gbdfl", "get_person", iin="850314354052")
            await query("zags", "list_acts", iin="850314354052")
            await query("vehicles", "get_vehicle", plate="123ABC01")
            await query("vehicles", "list_vehicles_by_owner", iin="771130308916")
            await query("insurance", "get_policy", plate="123ABC01")

            print(
                "\n2. Bad input is refused before any registry is called; unknown people are"
                " NOT_FOUND:"
            )
            await query("gbdfl", "get_person", iin="850314354053")
            await query("vehicles", "get_vehicle", plate="12-AB")
            await query("gbdfl", "get_person", iin="940512410508")

            async def story(title: str, profile: str, **keys: str) -> None:
                print(f"\n$ regbus compose {profile} {_args(keys)}   # {title}")
                request = bus_pb2.ComposeRequest(profile=profile, params=keys, context=context)
                started = time.monotonic()
                composed = await stub.Compose(request, timeout=10)
                ms = (time.monotonic() - started) * 1000
                for line in compose_table(composed).splitlines():
                    print(f"  {line}")
                print(f"  ({len(composed.parts)} parts in {ms:.0f} ms)")

            print("\n3. Compose profiles: the checks people run, declared in configuration:")
            await story("a police tablet reads an ID card", "roadside_check", iin="771130308916")
            await story("the same check from a plate", "roadside_check", plate="777KZA09")
            await story("a centre's counter", "citizen_profile", iin="850314354052")

            print("\n4. One registry goes down; the others keep working:")
            await fault("gbdfl", "down")
            for _ in range(4):
                await query("gbdfl", "get_person", iin="850314354052")
            await query("vehicles", "get_vehicle", plate="123ABC01")
            await query("zags", "list_acts", iin="850314354052")
            await _show_registries(stub)

            print("\n5. The registry comes back; the breaker closes by itself:")
            await fault("gbdfl", "ok")
            wait = DEMO_POLICY.breaker.reset_timeout + 0.2
            print(f"  (waiting {wait:.1f}s for the breaker's reset timeout)")
            await asyncio.sleep(wait)
            await query("gbdfl", "get_person", iin="850314354052")
            await _show_registries(stub)

            print("\n6. Who may see what: the purpose a request states decides (docs/security.md).")
            print("  A roadside check sees whether the driver is on a register, no more:")
            roadside = bus_pb2.RequestContext(operator_id="officer-7", purpose="roadside_check")
            await query("narcology", "check_registration", why=roadside, iin="771130308916")
            print("  At a centre's counter, medical data needs the person's consent:")
            counter = bus_pb2.RequestContext(operator_id="op-1", purpose="citizen_service")
            await query("health", "get_summary", why=counter, iin="850314354052")
            print(f"  ...with the code texted to the person ({CODE_HEADER}):")
            await query(
                "health",
                "get_summary",
                why=counter,
                consent=f"{DEMO_CODE_ID}:{DEMO_CODE}",
                iin="850314354052",
            )

            print(f"\n7. Metrics (excerpt of http://127.0.0.1:{bus.http_port}/metrics):")
            text = (await http.get(f"http://127.0.0.1:{bus.http_port}/metrics")).text
            for line in text.splitlines():
                counted = not line.endswith(" 0.0")
                if counted and line.startswith(("regbus_requests_total", "regbus_fail_fast_total")):
                    print(f"  {line}")
    finally:
        await running.stop()
    return 0


async def _show_registries(stub: bus_pb2_grpc.RegistryBusStub) -> None:
    response = await stub.ListRegistries(bus_pb2.ListRegistriesRequest(), timeout=5)
    print("\n  $ regbus registries")
    for line in registry_table(list(response.registries)).splitlines():
        print(f"  {line}")


def _args(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items())
