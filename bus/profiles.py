"""Compose profiles: named checks declared in configuration, not code.

A profile is a list of steps, each one operation on one registry. A step's
parameters come from the request's keys or from the records of earlier steps,
so a check can follow its answers (the owner of a plate, the plates of an owner)::

    [profiles.roadside_check]
    title = "Roadside check"
    keys = ["iin", "plate"]                     # the request gives at least one

    [profiles.roadside_check.let]
    iin = ["{iin}", "{owner.owner_iin}"]        # the first that resolves wins

    [[profiles.roadside_check.steps]]
    name = "owner"
    registry = "vehicles"
    operation = "get_vehicle"
    params = { plate = "{plate}" }              # skipped when the request has no plate

    [[profiles.roadside_check.steps]]
    name = "insurance"
    registry = "insurance"
    operation = "get_policy"
    params = { plate = "{vehicles.vehicles[].plate}" }   # once per listed vehicle

A source is ``{key}`` (a ``let`` name, else a request key), ``{step.path}`` (a
field of an earlier step's record: ``owner_iin``, ``vehicles[].plate`` where
``[]`` runs the step once per item) or a literal. A step whose sources are all
absent request keys is skipped; one whose source step failed is a part with
``DEPENDENCY_FAILED``.

Where profiles come from, each source over the one before: the built-in ones
(``profiles.toml`` beside this module); installed packages, a TOML file of the same form
each, named by an entry point (a region ships its registries and its checks as one
package)::

    [project.entry-points."regbus.profiles"]
    kostanay = "kz_kostanay:PROFILES"     # PROFILES = files("kz_kostanay") / "profiles.toml"

and the configuration, whose ``[profiles.NAME]`` adds one or replaces it
(``enabled = false`` removes it).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.metadata import EntryPoint
from importlib.resources.abc import Traversable
from typing import Any

from regbus.adapters.spec import Registry
from regbus.bus import plugins

NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
REFERENCE = re.compile(r"\{([a-z][a-z0-9_]*)(?:\.([a-z0-9_.\[\]]+))?\}")
MAX_STEPS = 32
BUILT_IN = "profiles.toml"
GROUP = "regbus.profiles"  # installed packages' profiles (a TOML file each)


class ProfileError(ValueError):
    """A profile that cannot work; the message names the profile, step and key."""


@dataclass(frozen=True)
class Source:
    """One way to get a value: a literal, a key (``let`` or request), or a step's field."""

    text: str
    name: str = ""  # the key or step; "" for a literal
    path: tuple[str, ...] = ()  # into the step's record; () for a key

    @property
    def literal(self) -> bool:
        return not self.name

    @property
    def step(self) -> str:
        return self.name if self.path else ""

    @property
    def fans_out(self) -> bool:
        return any(part.endswith("[]") for part in self.path)


@dataclass(frozen=True)
class Step:
    name: str
    registry: str
    operation: str
    params: Mapping[str, tuple[Source, ...]]  # parameter -> alternatives, in order

    @property
    def after(self) -> tuple[str, ...]:
        """The earlier steps whose records it may need."""
        return tuple(dict.fromkeys(s.step for alts in self.params.values() for s in alts if s.step))


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    keys: tuple[str, ...]
    steps: tuple[Step, ...]
    let: Mapping[str, tuple[Source, ...]]
    # The installed package that declared it, as messages name it; "" for the built-in
    # profiles and the configuration's.
    package: str = field(default="", compare=False)
    # Each step's parameters with ``let`` names expanded, worked out once.
    _sources: dict[int, Mapping[str, tuple[Source, ...]]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for step in self.steps:
            self._sources[id(step)] = {
                name: tuple(self._expand(alts)) for name, alts in step.params.items()
            }

    def step_sources(self, step: Step) -> Mapping[str, tuple[Source, ...]]:
        """The step's parameters with ``let`` names expanded to their alternatives."""
        found = self._sources.get(id(step))
        if found is None:  # a step that is not this profile's own object
            return {name: tuple(self._expand(alts)) for name, alts in step.params.items()}
        return found

    def key_takers(self) -> Iterator[tuple[str, Step, str]]:
        """(request key, step, parameter) for every parameter a request key feeds directly."""
        for step in self.steps:
            for param, alternatives in self.step_sources(step).items():
                for source in alternatives:
                    if source.name and not source.path:
                        yield source.name, step, param

    def _expand(self, alternatives: tuple[Source, ...]) -> Iterator[Source]:
        for source in alternatives:
            if source.name in self.let and not source.path:
                yield from self.let[source.name]
            else:
                yield source

    def needs(self, step: Step) -> tuple[str, ...]:
        """Every earlier step ``step`` may wait for, ``let`` included."""
        found = (s.step for alts in self.step_sources(step).values() for s in alts if s.step)
        return tuple(dict.fromkeys(found))


def parse_source(text: str, where: str) -> Source:
    if not text.startswith("{"):
        return Source(text)
    match = REFERENCE.fullmatch(text)
    if match is None:
        raise ProfileError(f"{where}: {text!r} is not {{key}} or {{step.field}}")
    name, path = match.group(1), match.group(2)
    parts = tuple(path.split(".")) if path else ()
    for part in parts:
        if not re.fullmatch(r"[a-z0-9_]+(\[\])?", part):
            raise ProfileError(f"{where}: {text!r} has a bad field name {part!r}")
    return Source(text, name, parts)


def parse_profiles(
    table: Mapping[str, Any], source: str, *, package: str = ""
) -> dict[str, Profile | None]:
    """``[profiles.*]`` tables; a profile with ``enabled = false`` maps to None.

    ``package`` names the installed package they come from (``Profile.package``)."""
    found: dict[str, Profile | None] = {}
    for name, body in table.items():
        where = f"{source}: profiles.{name}"
        if not isinstance(body, Mapping):
            raise ProfileError(f"{where} must be a table")
        if not NAME.fullmatch(name):
            raise ProfileError(f"{where}: a profile name is lower case letters, digits and _")
        if body.get("enabled", True) is False:
            found[name] = None
        else:
            found[name] = _profile(name, body, where, package)
    return found


def _profile(name: str, body: Mapping[str, Any], where: str, package: str = "") -> Profile:
    unknown = set(body) - {"title", "keys", "let", "steps", "enabled"}
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    keys = body.get("keys", [])
    if not keys or not all(isinstance(k, str) and NAME.fullmatch(k) for k in keys):
        raise ProfileError(f"{where}.keys must list the request keys it takes, e.g. ['iin']")
    let_table = body.get("let", {})
    if not isinstance(let_table, Mapping):
        raise ProfileError(f"{where}.let must be a table")
    let = {k: _alternatives(v, f"{where}.let.{k}") for k, v in let_table.items()}
    steps_table = body.get("steps", [])
    if not isinstance(steps_table, list) or not steps_table:
        raise ProfileError(f"{where}: declare its [[...steps]]")
    if len(steps_table) > MAX_STEPS:
        raise ProfileError(f"{where}: at most {MAX_STEPS} steps")
    steps: list[Step] = []
    for index, raw in enumerate(steps_table):
        steps.append(_step(raw, f"{where}.steps[{index}]"))
    title = str(body.get("title", name))
    profile = Profile(name, title, tuple(keys), tuple(steps), let, package)
    _check_order(profile, where)
    return profile


def _alternatives(value: Any, where: str) -> tuple[Source, ...]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise ProfileError(f"{where} must be a string or a list of strings")
    return tuple(parse_source(v, where) for v in values)


def _step(raw: Any, where: str) -> Step:
    if not isinstance(raw, Mapping):
        raise ProfileError(f"{where} must be a table")
    unknown = set(raw) - {"name", "registry", "operation", "params"}
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("name", "registry", "operation"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise ProfileError(f"{where}.{key} must be given")
    if not NAME.fullmatch(raw["name"]):
        raise ProfileError(f"{where}.name: lower case letters, digits and _")
    params = raw.get("params", {})
    if not isinstance(params, Mapping):
        raise ProfileError(f"{where}.params must be a table")
    return Step(
        raw["name"],
        raw["registry"],
        raw["operation"],
        {k: _alternatives(v, f"{where}.params.{k}") for k, v in params.items()},
    )


def _check_order(profile: Profile, where: str) -> None:
    """Steps are unique and refer only to steps declared before them (no cycles)."""
    seen: set[str] = set()
    for step in profile.steps:
        if step.name in seen:
            raise ProfileError(f"{where}: two steps are named {step.name}")
        for need in profile.needs(step):
            if need not in seen:
                raise ProfileError(
                    f"{where}: step {step.name} uses {need}, which is not a step before it"
                )
        fanning = [
            p for p, alts in profile.step_sources(step).items() if any(s.fans_out for s in alts)
        ]
        if len(fanning) > 1:
            raise ProfileError(
                f"{where}: step {step.name} runs once per item of more than one list"
                f" ({', '.join(fanning)})"
            )
        seen.add(step.name)
    for name, alternatives in profile.let.items():
        for source in alternatives:
            if source.step and source.step not in seen:
                raise ProfileError(f"{where}.let.{name}: {source.text} names no step")


def profile_problems(profile: Profile, specs: Mapping[str, Registry]) -> Iterator[str]:
    """Steps naming an operation or parameter the installed registries lack."""
    named = f"profile {profile.name}" + (f" of {profile.package}" if profile.package else "")
    for step in profile.steps:
        where = f"{named}, step {step.name}"
        spec = specs.get(step.registry)
        if spec is None:
            continue  # a registry not served: its parts say so at call time
        op = spec.operation(step.operation)
        if op is None:
            known = ", ".join(o.name for o in spec.operations)
            yield f"{where}: {step.registry} has no operation {step.operation} (it has: {known})"
            continue
        for param in step.params:
            if op.param(param) is None:
                yield f"{where}: {step.registry}.{step.operation} takes no parameter {param}"


def built_in_profiles() -> dict[str, Profile]:
    """The profiles regbus ships (``profiles.toml``)."""
    text = resources.files("regbus.bus").joinpath(BUILT_IN).read_text("utf-8")
    parsed = parse_profiles(tomllib.loads(text).get("profiles", {}), f"regbus {BUILT_IN}")
    return {name: profile for name, profile in parsed.items() if profile is not None}


@dataclass(frozen=True)
class ProfileSet:
    """The profiles one installed package declares (None: one it removes)."""

    package: str  # as messages name it: the package and its entry point
    profiles: Mapping[str, Profile | None]


def package_profiles() -> dict[str, Profile | None]:
    """Every installed package's profiles, packages in the order of their entry-point names.

    Two packages declaring one profile name is a ``PluginError`` naming both; so is a file
    that is not TOML or a profile that cannot work (``load_group``).
    """
    sets = plugins.load_group(GROUP, "profile set", _profile_set, named="name")
    found: dict[str, Profile | None] = {}
    declared_by: dict[str, str] = {}
    for entry in sorted(sets):
        profile_set = sets[entry]
        for name, profile in profile_set.profiles.items():
            if name in declared_by:
                raise plugins.PluginError(
                    f"profile {name} is declared by two installed packages:"
                    f" {declared_by[name]} and {profile_set.package}"
                )
            declared_by[name] = profile_set.package
            found[name] = profile
    return found


def _profile_set(ep: EntryPoint, loaded: object) -> ProfileSet:
    """An entry point's object: a TOML file of ``[profiles.NAME]`` tables, as an
    ``importlib.resources`` Traversable or a ``pathlib.Path``."""
    dist = ep.dist.name if ep.dist is not None else "?"
    package = f"package {dist} ({GROUP} entry point {ep.name} = {ep.value})"
    where = f"of package {dist}"
    if not isinstance(loaded, Traversable):
        raise ValueError(
            f"{where} is a {type(loaded).__name__}, not a TOML file"
            ' (importlib.resources.files("pkg") / "profiles.toml", or a path)'
        )
    try:
        data = tomllib.loads(loaded.read_text("utf-8"))
    except OSError as exc:
        raise ValueError(f"{where}: {loaded.name} cannot be read: {exc}") from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{where}: {loaded.name} is not valid TOML: {exc}") from exc
    unknown = set(data) - {"profiles"}
    if unknown:
        raise ValueError(
            f"{where}: {loaded.name} holds [profiles.NAME] tables only, not"
            f" {', '.join(sorted(unknown))}"
        )
    table = data.get("profiles", {})
    if not isinstance(table, Mapping):
        raise ValueError(f"{where}: profiles must be a table")
    return ProfileSet(package, parse_profiles(table, where, package=package))


def merged_profiles(configured: Mapping[str, Profile | None]) -> dict[str, Profile]:
    """The built-in profiles, then the installed packages', then the configuration's: each
    adds, replaces or removes (``None``) the ones before it.

    A package's profile that is still there must name registries with an adapter
    installed; ``PluginError`` names the profile, the package and the registry.
    """
    packaged = package_profiles()
    merged: dict[str, Profile | None] = {**built_in_profiles(), **packaged, **configured}
    profiles = {name: profile for name, profile in merged.items() if profile is not None}
    adapters = set(plugins.installed(plugins.GROUP))
    for name, profile in profiles.items():
        if not profile.package:
            continue
        for step in profile.steps:
            if step.registry not in adapters:
                raise plugins.PluginError(
                    f"profile {name} of {profile.package}: step {step.name} calls registry"
                    f" {step.registry!r}, which no installed adapter serves (installed:"
                    f" {', '.join(sorted(adapters)) or 'none'}); install the package that"
                    f" provides it, or replace or remove the profile with [profiles.{name}]"
                    " in the configuration"
                )
    return profiles


def profile_values(profile: Profile) -> dict[str, Any]:
    """A profile as a ``[profiles.NAME]`` table says it (``regbus config show``)."""

    def texts(alternatives: tuple[Source, ...]) -> str | list[str]:
        values = [source.text for source in alternatives]
        return values[0] if len(values) == 1 else values

    values: dict[str, Any] = {"title": profile.title, "keys": list(profile.keys)}
    if profile.let:
        values["let"] = {name: texts(alts) for name, alts in profile.let.items()}
    values["steps"] = [
        {
            "name": step.name,
            "registry": step.registry,
            "operation": step.operation,
            "params": {param: texts(alts) for param, alts in step.params.items()},
        }
        for step in profile.steps
    ]
    return values
