"""docs/registries.md is what the declarations say today."""

from importlib.metadata import distribution
from pathlib import Path

from regbus.bus.plugins import discover
from regbus.bus.reference import markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "registries.md"


def test_the_registry_reference_matches_the_declarations() -> None:
    names = {ep.name for ep in distribution("regbus").entry_points if ep.group == "regbus.adapters"}
    specs = {rid: cls.spec for rid, cls in discover().items() if rid in names}
    expected = markdown(specs)
    assert DOC.read_text("utf-8").startswith(expected), (
        "docs/registries.md is out of date: regenerate its first part with"
        " `regbus registries --markdown` (regbus's own adapters only)"
    )
    for rid in names:
        assert f"\n## {rid}\n" in expected
