"""The ``regbus`` command line.

regbus serve [--config FILE]... [--grpc-port N] [--http-port N] [--workers N]
regbus mocks [--port N] [--write-config FILE] [--public-url URL] [--population N] [--seed S]
regbus config show [--config FILE]... [--json]
regbus audit verify [--config FILE]... [--public-key FILE] [--anchor SEQ:HASH]... [--json]
regbus audit subject IIN [--config FILE]... [--json]
regbus fault [REGISTRY [MODE]] [--mocks HOST:PORT]
regbus call REGISTRY OPERATION key=value... [--target HOST:PORT]
regbus registries [--target HOST:PORT]
regbus demo
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from regbus.bus.access import exposure_problem, with_demo_access
from regbus.bus.audit.commands import add_audit_commands
from regbus.bus.audit.errors import AuditError
from regbus.bus.config import (
    MAX_WORKERS,
    Config,
    ConfigError,
    check_workers,
    config_text,
    layered,
    load_layers,
    mentions,
    show_value,
    with_endpoints,
)
from regbus.bus.embedded import DEFAULT_MOCKS_PORT
from regbus.bus.logs import FORMATS, LEVELS, configure_logging
from regbus.bus.plugins import PluginError

if TYPE_CHECKING:
    from regbus.bus.workers import Supervisor
    from regbus.mocks.population import Population
    from regbus.mocks.server import MockServer

DEFAULT_TARGET = "127.0.0.1:50051"
DEFAULT_PURPOSE = "demo"  # a purpose of demo mode (bus/demo_access.toml)
DEFAULT_MOCKS = f"127.0.0.1:{DEFAULT_MOCKS_PORT}"
T = TypeVar("T")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    configure_logging(
        getattr(args, "log_format", "text"),
        getattr(args, "log_level", "INFO"),
        worker=getattr(args, "worker", None),
    )
    if getattr(args, "quiet_audit", True):
        logging.getLogger("regbus.audit").setLevel(logging.WARNING)
    try:
        result: int = args.run(args)
        return result
    except ConfigError as exc:
        print(f"regbus: configuration error: {exc}", file=sys.stderr)
        return 2
    except PluginError as exc:
        print(f"regbus: installed plugin unusable: {exc}", file=sys.stderr)
        return 2
    except AuditError as exc:  # it names the log or key
        print(f"regbus: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"regbus: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="regbus", description="regbus: one gRPC contract in front of the state registries."
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve", help="run the bus (with built-in mock registries unless --config)"
    )
    serve.add_argument(
        "--config",
        type=Path,
        action="append",
        metavar="FILE",
        help="TOML configuration; repeat it to layer files (later ones win key by key), then"
        " REGBUS_<SECTION>__<KEY> variables win; without it, built-in mocks",
    )
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="synthetic data only: serve unauthenticated on a non-loopback --host too"
        " ([server] demo = true)",
    )
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="log one line per gRPC call and HTTP request ([server] access_log = true)",
    )
    serve.add_argument("--grpc-port", type=int, help="gRPC port (default 50051)")
    serve.add_argument("--http-port", type=int, help="metrics/status HTTP port (default 8081)")
    serve.add_argument(
        "--mocks-port",
        type=int,
        default=DEFAULT_MOCKS_PORT,
        help=f"port of the built-in mock registries (default {DEFAULT_MOCKS_PORT})",
    )
    serve.add_argument(
        "--workers",
        type=_workers,
        metavar="N",
        help=f"processes serving the same ports, 1-{MAX_WORKERS} (default 1, or [server] workers)",
    )
    serve.add_argument(
        "--audit",
        dest="quiet_audit",
        action="store_false",
        help="also log one text line per call (logger regbus.audit); the audit log itself"
        " ([audit]) records every call either way",
    )
    _population_options(serve, "of the built-in mocks (without --config)")
    # Set by the supervisor of --workers N on the command lines of its workers.
    serve.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    serve.add_argument("--supervisor-pid", type=int, help=argparse.SUPPRESS)
    serve.add_argument("--worker-endpoints", type=Path, help=argparse.SUPPRESS)
    serve.set_defaults(run=_serve)

    _logging(serve)
    mocks = sub.add_parser("mocks", help="run the mock registries standalone")
    _logging(mocks)
    mocks.add_argument("--host", default="127.0.0.1")
    mocks.add_argument("--port", type=int, default=DEFAULT_MOCKS_PORT)
    mocks.add_argument(
        "--write-config",
        type=Path,
        metavar="FILE",
        help="write a bus configuration pointing at these mocks",
    )
    mocks.add_argument(
        "--public-url",
        type=_base_url,
        metavar="URL",
        help="base URL the written configuration calls the mocks at (default: where they"
        " listen), e.g. http://mocks:8090 for a bus in another container",
    )
    _population_options(mocks)
    mocks.set_defaults(run=_mocks)

    config = sub.add_parser("config", help="the configuration the bus would run with")
    config_sub = config.add_subparsers(required=True, metavar="ACTION")
    show = config_sub.add_parser(
        "show",
        help="every value of the merged configuration and the file or variable it came from",
        description="Print the configuration `regbus serve` would run with, from the files"
        " (later ones win key by key) and the REGBUS_<SECTION>__<KEY> variables, one value"
        " a line with the file or variable that set it and the values it replaced.",
    )
    show.add_argument(
        "--config", type=Path, action="append", metavar="FILE", help="a TOML file; repeatable"
    )
    show.add_argument("--json", action="store_true", help="JSON for machines")
    show.add_argument(
        "--show-secrets",
        action="store_true",
        help="print passwords, secrets and tokens instead of ***",
    )
    show.set_defaults(run=_config_show)

    fault = sub.add_parser(
        "fault",
        help="change a running mock registry's behaviour",
        description="Change a running mock registry's behaviour. Without MODE, show its"
        " current fault; without REGISTRY, list the registries the running server has.",
    )
    fault.add_argument(
        "registry", nargs="?", help="a registry of the running server (list them: regbus fault)"
    )
    fault.add_argument(
        "mode",
        nargs="?",
        help="ok, down, hang, slow=MS, errors=RATE, malformed, huge=MB, flap=MS or reset",
    )
    fault.add_argument(
        "--mocks",
        default=DEFAULT_MOCKS,
        metavar="HOST:PORT",
        help=f"where the mock registries run (default {DEFAULT_MOCKS})",
    )
    fault.set_defaults(run=_fault)

    call = sub.add_parser("call", help="one query, JSON out")
    call.add_argument("registry")
    call.add_argument("operation")
    call.add_argument("params", nargs="*", metavar="key=value")
    _caller(call)
    call.set_defaults(run=_call)

    compose = sub.add_parser(
        "compose",
        help="run a Compose profile (e.g. roadside_check iin=...): a table of parts, then records",
    )
    compose.add_argument("profile", help="a profile name; `regbus registries` lists them")
    compose.add_argument("params", nargs="*", metavar="key=value")
    compose.add_argument("--json", action="store_true", help="the answer as JSON")
    _caller(compose)
    compose.set_defaults(run=_compose)

    registries = sub.add_parser("registries", help="the catalogue with live health")
    _target(registries)
    registries.add_argument("--json", action="store_true", help="JSON instead of a table")
    registries.add_argument(
        "--markdown",
        action="store_true",
        help="the reference of the installed registries (docs/registries.md), without a bus",
    )
    registries.set_defaults(run=_registries)

    add_audit_commands(sub)

    demo = sub.add_parser("demo", help="a first look: everything above in one go")
    demo.set_defaults(run=_demo)
    return parser


def _logging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-format",
        choices=FORMATS,
        default="text",
        help="text lines for people, or one JSON object per line (default text)",
    )
    parser.add_argument(
        "--log-level", choices=LEVELS, default="INFO", type=str.upper, help="default INFO"
    )


def _caller(parser: argparse.ArgumentParser) -> None:
    """Options of a command that calls the bus on someone's behalf."""
    _target(parser)
    parser.add_argument("--timeout", type=float, default=15.0, help="deadline in seconds")
    parser.add_argument(
        "--operator-id",
        default=_login(),
        help="the person at the desk (default: your login name)",
    )
    parser.add_argument(
        "--purpose",
        default=DEFAULT_PURPOSE,
        help=f"why the data is needed, a purpose the bus declares (default {DEFAULT_PURPOSE})",
    )
    parser.add_argument("--case-number", default="", help="where the purpose needs one")
    parser.add_argument("--request-id", default="")
    parser.add_argument(
        "--client-id",
        default="",
        help="the client you call as; the bus knows it from your certificate or token and"
        " refuses a different one (default: leave it to the bus)",
    )
    parser.add_argument(
        "--consent-code",
        metavar="CODE_ID:CODE",
        help="the person's consent: the code texted by mobile send_code and its code_id",
    )
    parser.add_argument(
        "--consent-token", metavar="JWT", help="the person's consent as a signed token"
    )


def _target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        default=DEFAULT_TARGET,
        metavar="HOST:PORT",
        help=f"the bus's gRPC address (default {DEFAULT_TARGET})",
    )
    tls = parser.add_argument_group("TLS and tokens (a bus with [tls] or [jwt])")
    tls.add_argument("--ca", metavar="FILE", help="CA certificate(s) the bus's certificate is from")
    tls.add_argument("--cert", metavar="FILE", help="your client certificate (mutual TLS)")
    tls.add_argument("--key", metavar="FILE", help="your client certificate's private key")
    tls.add_argument(
        "--server-name", metavar="NAME", help="the name in the bus's certificate, if not the host"
    )
    tls.add_argument(
        "--token-file", metavar="FILE", type=Path, help="a bearer token (JWT) to call with"
    )


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without a passwd entry)
        return "cli"


# serve -------------------------------------------------------------------------------------


def _run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop where it is installed (everywhere but Windows)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def _workers(text: str) -> int:
    try:
        return check_workers(int(text))
    except ValueError:  # ConfigError is one too
        raise argparse.ArgumentTypeError(
            f"must be a whole number of processes from 1 to {MAX_WORKERS}, got {text!r}"
        ) from None


def _serve(args: argparse.Namespace) -> int:
    if args.worker is not None:
        return _serve_worker(args)
    if args.config is not None and (args.population is not None or args.seed is not None):
        print(
            "regbus: --population and --seed shape the built-in mocks; with --config the bus"
            " calls the registries the file names (run regbus mocks --population N instead)",
            file=sys.stderr,
        )
        return 2
    config = _serve_config(args)
    problem = exposure_problem(config, embedded=args.config is None)
    if problem is not None:
        print(f"regbus: {problem}", file=sys.stderr)
        return 2
    # Said loudly, as a warning in the log's own format (one JSON object with --log-format json).
    if args.config is None:
        logging.getLogger("regbus").warning(DEMO_BANNER)
    elif config.server.demo:
        logging.getLogger("regbus").warning(
            "demo mode ([server] demo = true or --demo): for synthetic data only; unless the"
            " configuration declares [clients], every call is the client %r with every right",
            config.access.local_client,
        )
    if config.server.workers > 1:
        return _run(_supervise(args, config))
    population = _population(args.population, args.seed) if args.config is None else None
    _run(
        _serve_async(
            config,
            embedded=args.config is None,
            mocks_port=args.mocks_port,
            population=population,
        )
    )
    return 0


def _serve_config(args: argparse.Namespace) -> Config:
    if args.config:
        config = load_layers(args.config, os.environ)
    else:
        config = load_layers([], os.environ, source="built-in mock registries")
    overrides = {
        "host": args.host,
        "grpc_port": args.grpc_port,
        "http_port": args.http_port,
        "workers": args.workers,
        "demo": True if args.demo else None,
        "access_log": True if args.access_log else None,
    }
    changes = {k: v for k, v in overrides.items() if v is not None}
    if changes:
        config = replace(config, server=replace(config.server, **changes))
    if args.config is None or config.server.demo:
        config = with_demo_access(config)  # synthetic data: the demo client, unless declared
    return config


DEMO_BANNER = (
    "DEMO MODE - serving SYNTHETIC data from the built-in mock registries, to every caller on"
    ' this machine without authentication (every call is the client "demo"). For real'
    " registries: regbus serve --config FILE (see docs/security.md)"
)


async def _supervise(args: argparse.Namespace, config: Config) -> int:
    """``regbus serve --workers N``: the supervisor (``bus.workers``)."""
    from regbus.bus.embedded import mock_endpoints
    from regbus.bus.plugins import discover
    from regbus.bus.workers import Supervisor, WorkerFailed, private_folder, write_endpoints

    log = logging.getLogger("regbus")
    stopping = _stop_signal()
    command = [sys.executable, "-m", "regbus.bus.cli", "serve"]
    for path in args.config or ():
        command += ["--config", str(path.resolve())]
    if not args.quiet_audit:
        command.append("--audit")
    if args.demo:
        command.append("--demo")
    if args.access_log:
        command.append("--access-log")
    command += ["--log-format", args.log_format, "--log-level", args.log_level]
    with private_folder() as folder:
        mocks = None
        endpoints = None
        adapters = discover()
        if args.config is None:  # the built-in mocks run here, once, for every worker
            from regbus.mocks.server import MockServer

            mocks = MockServer(population=_population(args.population, args.seed))
            await mocks.start(config.server.host, args.mocks_port)
            endpoints = folder / "endpoints.json"
            write_endpoints(endpoints, mock_endpoints(config, adapters, mocks.adapter_endpoints()))
        else:
            warn_unconfigured(config, adapters)
        try:
            supervisor = Supervisor(
                config,
                config.server.workers,
                command,
                folder=folder,
                endpoints=endpoints,
                stopping=stopping,
            )
            try:
                started = await supervisor.start()
            except WorkerFailed as exc:
                log.error("%s; stopping", exc)
                return exc.code
            if started:
                _log_serving(config, supervisor, mocks)
            code = await supervisor.run()
            log.info("all workers stopped")
            return code
        finally:
            if mocks is not None:
                await mocks.stop()


def _log_serving(config: Config, supervisor: Supervisor, mocks: MockServer | None) -> None:
    log = logging.getLogger("regbus")
    host = config.server.host
    log.info(
        "regbus %s: %d workers (pids %s) serving gRPC on %s:%d, registries: %s",
        config.source,
        supervisor.count,
        " ".join(map(str, supervisor.pids())),
        host,
        supervisor.grpc_port,
        ", ".join(supervisor.registries),
    )
    log.info(
        "metrics of all workers http://%s:%d/metrics, status page (of the worker that answers)"
        " http://%s:%d/",
        host,
        supervisor.http_port,
        host,
        supervisor.http_port,
    )
    if mocks is not None:
        served = sorted(mocks.registries)
        log.info(
            "mock registries at %s (%s); break one with: regbus fault %s down",
            mocks.base_url,
            ", ".join(served),
            served[0] if served else "REGISTRY",
        )


def _serve_worker(args: argparse.Namespace) -> int:
    """One worker of ``regbus serve --workers N``, started by the supervisor."""
    from regbus.bus.workers import die_with_parent, read_endpoints

    if args.supervisor_pid is not None:
        die_with_parent(args.supervisor_pid)
    # Every worker loads the configuration for itself, here, and builds its own breakers,
    # bulkheads and recent-call statistics from it. Breaker state is shared between workers
    # only through the shared breaker store: with `[server] breaker_store` set (Redis), each
    # worker's Bus connects to it from this config (bus.server.breaker_store); without it
    # every worker judges each registry on its own. Worker-specific store settings would go
    # here.
    config = _serve_config(args)
    if args.worker_endpoints is not None:  # the built-in mocks, run by the supervisor
        config = with_endpoints(config, read_endpoints(args.worker_endpoints))
    _run(_worker_async(config, args.worker))
    return 0


async def _worker_async(config: Config, index: int) -> None:
    from regbus.bus.plugins import discover
    from regbus.bus.server import Bus
    from regbus.bus.workers import Ready

    stopping = _stop_signal()  # before start: a stop while starting still drains cleanly
    bus = Bus(config, discover(), worker=index)
    await bus.start()
    ready = Ready(os.getpid(), bus.grpc_port, bus.http_port, tuple(sorted(bus.router.lanes)))
    sys.stdout.write(ready.line())
    sys.stdout.flush()
    logging.getLogger("regbus").info("worker %d serving", index)
    await stopping.wait()
    logging.getLogger("regbus").info(
        "worker %d stopping: finishing calls in flight (up to %.0fs)", index, config.server.grace
    )
    await bus.stop()


async def _serve_async(
    config: Config, *, embedded: bool, mocks_port: int, population: Population | None = None
) -> None:
    from regbus.bus.embedded import start_embedded
    from regbus.bus.plugins import discover
    from regbus.bus.server import Bus

    log = logging.getLogger("regbus")
    if embedded:
        running = await start_embedded(
            config, mocks_host=config.server.host, mocks_port=mocks_port, population=population
        )
        bus = running.bus
        stop = running.stop
    else:
        adapters = discover()
        warn_unconfigured(config, adapters)
        bus = Bus(config, adapters)
        await bus.start()
        stop = bus.stop
    stopping = _stop_signal()
    host = config.server.host
    log.info(
        "regbus %s: gRPC on %s:%d, registries: %s",
        bus.config.source,
        host,
        bus.grpc_port,
        ", ".join(sorted(bus.router.lanes)),
    )
    log.info(
        "metrics http://%s:%d/metrics, status page http://%s:%d/",
        host,
        bus.http_port,
        host,
        bus.http_port,
    )
    if embedded:
        served = sorted(running.mocks.registries)
        log.info(
            "mock registries at %s (%s); break one with: regbus fault %s down",
            running.mocks_url,
            ", ".join(served),
            served[0] if served else "REGISTRY",
        )
    await stopping.wait()
    log.info("stopping: finishing calls in flight (up to %.0fs)", config.server.grace)
    await stop()


def warn_unconfigured(config: Config, adapters: Iterable[str]) -> None:
    """One warning for every installed adapter the configuration does not mention."""
    for registry in sorted(adapters):
        if not mentions(config, registry):
            logging.getLogger("regbus").warning(
                "adapter %s is installed but not configured: add [registries.%s] to %s",
                registry,
                registry,
                config.source,
            )


def _stop_signal() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM. Taken before a command says it is ready, so a
    signal sent as soon as it does stops it cleanly."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    return stopping


# mocks and faults -----------------------------------------------------------------------------


def _population_size(text: str) -> int:
    from regbus.mocks.population import MAX_SIZE

    size = int(text) if text.isascii() and text.isdigit() else -1
    if not 0 <= size <= MAX_SIZE:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of people from 0 to {MAX_SIZE}"
            f" (0: only the demo subjects), got {text!r}"
        )
    return size


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def _population_options(parser: argparse.ArgumentParser, which: str = "") -> None:
    from regbus.mocks.population import DEFAULT_SEED, DEFAULT_SIZE, MAX_SIZE

    parser.add_argument(
        "--population",
        type=_population_size,
        metavar="N",
        help=f"people to generate besides the demo subjects{' ' + which if which else ''},"
        f" 0-{MAX_SIZE} (default {DEFAULT_SIZE}; 0: only the demo subjects)",
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        metavar="S",
        help=f"seed of the generated population (default {DEFAULT_SEED})",
    )


def _mocks(args: argparse.Namespace) -> int:
    population = _population(args.population, args.seed)
    _run(_mocks_async(args.host, args.port, args.write_config, population, args.public_url))
    return 0


def _base_url(text: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"must be an http:// or https:// URL, got {text!r}")
    return text.rstrip("/")


def _population(size: int | None, seed: int | None) -> Population:
    """The population of ``--population N --seed S`` (the defaults where not given)."""
    from regbus.mocks.population import DEFAULT_SEED, DEFAULT_SIZE, Population

    if size is None and seed is None:
        return Population.load()  # the default one, generated once per process
    size = DEFAULT_SIZE if size is None else size
    seed = DEFAULT_SEED if seed is None else seed
    if size > 100_000:
        logging.getLogger("regbus.mocks").info("generating %d people; this takes a while", size)
    started = time.perf_counter()
    population = Population.generate(size, seed)
    logging.getLogger("regbus.mocks").info(
        "population: %d people, %d of them generated from seed %d, in %.1fs",
        len(population.persons),
        size,
        seed,
        time.perf_counter() - started,
    )
    return population


async def _mocks_async(
    host: str,
    port: int,
    write_config: Path | None,
    population: Population,
    public_url: str | None = None,
) -> None:
    from regbus.bus.plugins import GROUP, installed
    from regbus.mocks.server import MockServer

    server = MockServer(population=population)
    url = await server.start(host, port)
    try:
        stopping = _stop_signal()
        log = logging.getLogger("regbus.mocks")
        adapters = installed(GROUP)
        lonely = sorted(set(server.registries) - set(adapters))
        for registry, endpoint in sorted(server.endpoints().items()):
            log.info("mock %s at %s", registry, endpoint)
        for registry in lonely:
            log.info("mock %s has no adapter installed; the bus cannot call it yet", registry)
        if write_config is not None:
            endpoints = server.adapter_endpoints()
            if public_url is not None:
                endpoints = {
                    rid: replace(e, url=public_url + e.url.removeprefix(server.base_url))
                    for rid, e in endpoints.items()
                }
            text = config_text(endpoints, comment=CONFIG_COMMENT, disabled=lonely)
            await asyncio.to_thread(_write_whole, write_config, text)
            log.info("wrote %s; run: regbus serve --config %s", write_config, write_config)
        log.info(
            "mock registries at %s; change one with: regbus fault REGISTRY MODE --mocks %s",
            url,
            url.removeprefix("http://"),
        )
        await stopping.wait()
    finally:
        await server.stop()


CONFIG_COMMENT = "regbus configuration written by `regbus mocks`."


def _write_whole(path: Path, text: str) -> None:
    """Write ``path`` so that a reader never sees half of it (a bus waiting for the file)."""
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    part.write_text(text, "utf-8")
    os.replace(part, path)


# config ---------------------------------------------------------------------------------------

SECRET_WORDS = ("password", "secret", "token")


def _config_show(args: argparse.Namespace) -> int:
    """``regbus config show``: the merged configuration, each value with its origin."""
    merged = layered(args.config or [], os.environ)

    def shown(path: tuple[str, ...], value: object) -> object:
        hidden = any(word in path[-1].lower() for word in SECRET_WORDS)
        return "***" if hidden and not args.show_secrets and value != "" else value

    if args.json:
        body = {
            "files": [str(path) for path in args.config or ()],
            "settings": [
                {
                    "key": s.key,
                    "value": shown(s.path, s.value),
                    "origin": s.origin,
                    "shadowed": [
                        {"origin": origin, "value": shown(s.path, value)}
                        for origin, value in s.shadowed
                    ],
                }
                for s in merged.settings
            ],
        }
        print(json.dumps(body, indent=2, ensure_ascii=False, default=str))
        return 0
    lines = [(f"{s.key} = {show_value(shown(s.path, s.value))}", s) for s in merged.settings]
    width = min(max((len(text) for text, _ in lines), default=0), 60)
    for text, setting in lines:
        note = setting.origin
        if setting.shadowed:
            had = ", ".join(
                f"{origin} had {show_value(shown(setting.path, value))}"
                for origin, value in setting.shadowed
            )
            note += f" ({had})"
        print(f"{text.ljust(width)}   # {note}")
    return 0


def _fault(args: argparse.Namespace) -> int:
    import httpx

    base = f"http://{args.mocks.removeprefix('http://')}/_faults"
    try:
        faults = httpx.get(base, timeout=5.0)
        faults.raise_for_status()
        current: dict[str, str] = faults.json()
        if args.registry is None or args.registry not in current:
            return _faults_list(args, current)
        if args.mode is None:
            print(f"{args.registry}: {current[args.registry]}")
            return 0
        response = httpx.put(f"{base}/{args.registry}", content=args.mode, timeout=5.0)
    except (httpx.HTTPError, ValueError) as exc:
        print(
            f"regbus: no mock registries answer at {args.mocks} ({exc}); start them with"
            " `regbus serve` or `regbus mocks`, or pass --mocks HOST:PORT",
            file=sys.stderr,
        )
        return 1
    if response.status_code != 200:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        print(f"regbus: {detail}", file=sys.stderr)
        return 2 if response.status_code == 400 else 1
    body = response.json()
    print(f"{body['registry']}: {body['mode']}")
    return 0


def _faults_list(args: argparse.Namespace, current: dict[str, str]) -> int:
    """Without a registry: every registry and its fault. With an unknown one: say which exist."""
    known = ", ".join(sorted(current)) or "none"
    if args.registry is not None:
        print(
            f"regbus: no mock registry {args.registry!r} at {args.mocks}; it has: {known}",
            file=sys.stderr,
        )
        return 1
    for registry, mode in sorted(current.items()):
        print(f"{registry}: {mode}")
    return 0


# calls ----------------------------------------------------------------------------------------


def _key_values(items: Sequence[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"regbus: parameter {item!r} must be written key=value", file=sys.stderr)
            return None
        params[key] = value
    return params


def _context(args: argparse.Namespace) -> Any:
    from regbus.v1 import bus_pb2

    return bus_pb2.RequestContext(
        client_id=args.client_id,
        operator_id=args.operator_id,
        purpose=args.purpose,
        case_number=args.case_number,
        request_id=args.request_id,
    )


def _connect(args: argparse.Namespace) -> Any:
    """A ``Client`` for ``--target`` with the TLS, token and consent options given."""
    from regbus.bus.client import Client, Credentials
    from regbus.bus.consent import CODE_HEADER, TOKEN_HEADER

    token = ""
    if args.token_file is not None:
        token = args.token_file.read_text("utf-8").strip()  # OSError: reported by main
    credentials = Credentials(
        ca_file=args.ca or "",
        cert_file=args.cert or "",
        key_file=args.key or "",
        server_name=args.server_name or "",
        token=token,
    )
    metadata = []
    if getattr(args, "consent_code", None):
        metadata.append((CODE_HEADER, args.consent_code))
    if getattr(args, "consent_token", None):
        metadata.append((TOKEN_HEADER, args.consent_token))
    return Client(
        args.target,
        timeout=getattr(args, "timeout", 15.0),
        credentials=credentials,
        metadata=metadata,
    )


def _call(args: argparse.Namespace) -> int:
    from regbus.bus.client import CallFailed, to_dict

    params = _key_values(args.params)
    if params is None:
        return 2
    with _connect(args) as client:
        try:
            response = client.query(args.registry, args.operation, params, _context(args))
        except CallFailed as exc:
            return _report(exc, args.target)
    print(json.dumps(to_dict(response), indent=2, ensure_ascii=False))
    return 0


def _compose(args: argparse.Namespace) -> int:
    from regbus.bus.client import CallFailed, to_dict
    from regbus.bus.describe import compose_records, compose_table

    params = _key_values(args.params)
    if params is None:
        return 2
    with _connect(args) as client:
        try:
            response = client.compose(args.profile, params, _context(args))
        except CallFailed as exc:
            return _report(exc, args.target)
    if args.json:
        print(json.dumps(to_dict(response), indent=2, ensure_ascii=False))
        return 0
    failed = sum(1 for p in response.parts if p.WhichOneof("result") != "response")
    given = " ".join(f"{k}={v}" for k, v in params.items())
    print(f"{args.profile} {given}: {len(response.parts)} part(s), {failed} failed\n")
    print(compose_table(response))
    records = compose_records(response)
    if records:
        print("\n" + records)
    return 0


def _report(exc: object, target: str) -> int:
    from regbus.bus.client import CallFailed

    assert isinstance(exc, CallFailed)
    if not exc.reason and exc.code == "UNAVAILABLE":
        print(
            f"regbus: cannot reach the bus at {target}: {exc.message}. Is `regbus serve`"
            " running (--target HOST:PORT), and does it want TLS (--ca, --cert, --key)?",
            file=sys.stderr,
        )
        return 3
    print(json.dumps({"error": exc.as_dict()}, indent=2, ensure_ascii=False), file=sys.stderr)
    return 1


def _registries(args: argparse.Namespace) -> int:
    from regbus.bus.client import CallFailed, to_dict
    from regbus.bus.describe import profile_table, registry_table

    if args.markdown:
        from regbus.bus.plugins import discover
        from regbus.bus.reference import markdown

        print(markdown({rid: cls.spec for rid, cls in discover().items()}), end="")
        return 0
    with _connect(args) as client:
        try:
            catalogue = client.catalogue()
        except CallFailed as exc:
            return _report(exc, args.target)
    if args.json:
        print(json.dumps(to_dict(catalogue), indent=2, ensure_ascii=False))
        return 0
    print(registry_table(catalogue.registries))
    if catalogue.profiles:
        print("\n" + profile_table(catalogue.profiles))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from regbus.bus.demo import run_demo

    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run_demo())
    return 130


if __name__ == "__main__":
    sys.exit(main())
