"""XML hardening: SOAP answers (and requests to the mock registries) carrying an XXE
external entity, entity expansion bombs, an external DTD or a parameter entity.

Each hostile answer is the real mock registry's answer to the adapter's real request,
served over real HTTP (tests/hostile.py), with one text of it (a last name, a registry
office, an insurer) replaced by an entity reference, for each SOAP style the bus speaks:
ШЭП (gbdfl), plain SOAP (zags), X-Road (insurance). The adapter must refuse it as a
registry fault, in bounded time and memory, without the file's content (or the DTD's)
in any record, error or log line, and without fetching anything.

To show these tests can fail, each payload is also read with a naive lxml parser
(``resolve_entities=True, load_dtd=True``) put in place of the hardened one: the same
answer then becomes a record holding the file's content, or the expanded text. (This
libxml2 has no HTTP client and stops the classic billion laughs itself, so the payloads
that fetch over HTTP, and the classic bomb, are shown refused and unfetched only.)
"""

from __future__ import annotations

import re
import resource
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from lxml import etree

from regbus.adapters.errors import AnswerTooLarge, RegistryFault
from regbus.adapters.soap import client as soap_client
from regbus.adapters.soap import descriptions
from regbus.mocks.population import Population
from tests.hostile import Bench, Outcome, Reply, Upstream

# Each SOAP style: a registry, its operation and sample, and the element whose text the
# hostile payload replaces (a plain string field of the record).
STYLES = {
    "shep": ("gbdfl", "get_person", {"iin": "850314354052"}, "lastName"),
    "soap": ("zags", "list_acts", {"iin": "850314354052"}, "registryOffice"),
    "xroad": ("insurance", "get_policy", {"plate": "123ABC01"}, "insurer"),
}
# What the mocks answer for these subjects, in any answer about them.
KNOWN = {"shep": b"Akhmetov", "soap": b"Yesil district", "xroad": b"OGPO-2026-00412233"}
SECONDS = 2.0  # the most one hostile call may take
MEGABYTES = 64  # the most one hostile call may add to the process's peak memory
LEVELS_EXPANDED = 4  # "lol" * 10**4: what a naive lxml still expands (x100 its size)


def laughs(levels: int) -> str:
    """Entity declarations expanding ``&l{levels};`` to ``"lol" * 10**levels``."""
    entities = ['<!ENTITY l0 "lol">']
    entities += [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, levels + 1)]
    return "".join(entities)


@dataclass(frozen=True)
class Hostile:
    """One payload: the DOCTYPE put after the XML declaration, the reference put in
    place of the target's text (or in an attribute of it), and what a naive parser makes
    of it: "leaks" the secret file, "expands" the laughs, or "" (not shown here)."""

    name: str
    doctype: str
    reference: str
    naive: str = ""
    attribute: bool = False


PAYLOADS = [
    Hostile("xxe", '<!DOCTYPE e [<!ENTITY xxe SYSTEM "{secret}">]>', "&xxe;", "leaks"),
    Hostile("xxe-http", '<!DOCTYPE e [<!ENTITY xxe SYSTEM "{http}/secret">]>', "&xxe;"),
    Hostile("laughs", f"<!DOCTYPE e [{laughs(LEVELS_EXPANDED)}]>", "&l4;", "expands"),
    Hostile("billion-laughs", f"<!DOCTYPE e [{laughs(9)}]>", "&l9;"),
    Hostile("billion-laughs-attribute", f"<!DOCTYPE e [{laughs(9)}]>", "&l9;", attribute=True),
    Hostile("external-dtd", '<!DOCTYPE e SYSTEM "{dtd}">', "&xxe;", "leaks"),
    Hostile("external-dtd-http", '<!DOCTYPE e SYSTEM "{http}/evil.dtd">', "&xxe;"),
    Hostile(
        "parameter-entity",
        '<!DOCTYPE e [<!ENTITY % ext SYSTEM "{param}"> %ext;]>',
        "&xxe;",
        "leaks",
    ),
    Hostile(
        "parameter-entity-http",
        '<!DOCTYPE e [<!ENTITY % ext SYSTEM "{http}/param.dtd"> %ext;]>',
        "&xxe;",
    ),
]


@dataclass(frozen=True)
class Files:
    """The secret on disk and the DTDs pointing at it, by file URL and by HTTP."""

    secret: str  # the file's content
    urls: dict[str, str]  # {secret}, {dtd}, {param}, {http}


@pytest.fixture(scope="module")
def bench() -> Iterator[Bench]:
    opened = Bench.open(Population.load())
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="module")
def files(bench: Bench, tmp_path_factory: pytest.TempPathFactory) -> Files:
    folder = tmp_path_factory.mktemp("hostile")
    secret = f"LEAKED-{uuid.uuid4().hex}"  # a valid xs:string: a naive read is a record
    (folder / "secret.txt").write_text(secret)
    secret_url = (folder / "secret.txt").as_uri()
    (folder / "evil.dtd").write_text(f'<!ENTITY xxe SYSTEM "{secret_url}">')
    (folder / "param.dtd").write_text(
        f'<!ENTITY % inner SYSTEM "{secret_url}"><!ENTITY xxe "%inner;">'
    )
    http = bench.relay.base_url
    bench.relay.files.update(
        {
            "/secret": secret.encode(),
            "/evil.dtd": f'<!ENTITY xxe SYSTEM "{http}/secret">'.encode(),
            "/param.dtd": (
                f'<!ENTITY % inner SYSTEM "{http}/secret"><!ENTITY xxe "%inner;">'.encode()
            ),
        }
    )
    urls = {
        "secret": secret_url,
        "dtd": (folder / "evil.dtd").as_uri(),
        "param": (folder / "param.dtd").as_uri(),
        "http": http,
    }
    return Files(secret, urls)


def inject(body: bytes, payload: Hostile, target: str, urls: dict[str, str]) -> bytes:
    """``body`` with ``payload``'s DOCTYPE after its XML declaration and its reference
    in place of the first ``target`` element's text (or in an attribute of it)."""
    doctype = payload.doctype.format(**urls).encode()
    declaration = re.match(rb"<\?xml[^>]*\?>", body)
    at = declaration.end() if declaration else 0
    body = body[:at] + doctype + body[at:]
    element = re.compile(rb"(<(?:[A-Za-z_][\w.-]*:)?" + target.encode() + rb")(>)([^<]*)(<)")
    reference = payload.reference.encode()
    if payload.attribute:
        changed, count = element.subn(rb'\1 x="' + reference + rb'"\2\3\4', body, count=1)
    else:
        changed, count = element.subn(rb"\1\2" + reference + rb"\4", body, count=1)
    assert count == 1, f"no <{target}> in the answer to inject into"
    return changed


def naive_parse(data: bytes) -> etree._Element:
    """What an lxml user writes when an answer 'needs' its DTD: entities resolved."""
    parser = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=False)
    return etree.fromstring(data, parser)


def _texts(error: BaseException | None) -> str:
    """Everything an error (and the errors behind it) says, as one text."""
    said = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        said += [str(error), repr(error), str(getattr(error, "detail", ""))]
        said += [str(arg) for arg in error.args]
        error = error.__cause__ or error.__context__
    return "\n".join(said)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hostile_call(
    bench: Bench, style: str, payload: Hostile, urls: dict[str, str]
) -> tuple[Outcome, list[bytes], float, float]:
    """The style's call answered with the payload: how it ended, the hostile answers
    sent, the seconds it took and the peak memory it added (MB)."""
    registry, operation, params, target = STYLES[style]
    sent: list[bytes] = []

    def rewrite(got: Upstream) -> Reply:
        assert got.status == 200, got.body
        sent.append(inject(got.body, payload, target, urls))
        return Reply(got.status, got.content_type, sent[-1])

    peak, started = _peak_mb(), time.monotonic()
    outcome = bench.call(registry, operation, params, rewrite)
    return outcome, sent, time.monotonic() - started, _peak_mb() - peak


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.name)
@pytest.mark.parametrize("style", STYLES)
def test_a_hostile_answer_is_a_registry_fault(
    bench: Bench, files: Files, style: str, payload: Hostile, caplog: pytest.LogCaptureFixture
) -> None:
    before = sum(bench.relay.hits.values())
    outcome, sent, seconds, grown = hostile_call(bench, style, payload, files.urls)
    assert len(sent) == 1 and b"<!DOCTYPE" in sent[0]
    assert outcome.record is None, f"{style}: {payload.name} answered as a record"
    error = outcome.error
    assert isinstance(error, RegistryFault) and not isinstance(error, AnswerTooLarge), error
    assert error.registry == STYLES[style][0] and "malformed answer" in error.message
    said = _texts(error) + caplog.text
    assert files.secret not in said and "lol" * 100 not in said
    assert sum(bench.relay.hits.values()) == before, "the answer made the adapter fetch"
    assert seconds < SECONDS and grown < MEGABYTES, (seconds, grown)


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if p.naive], ids=lambda p: p.name)
@pytest.mark.parametrize("style", STYLES)
def test_a_naive_parser_would_have_read_it(
    bench: Bench, files: Files, style: str, payload: Hostile, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same answers, with the adapter's hardened parser swapped for a naive one,
    become records carrying the secret file or the expanded laughs."""
    monkeypatch.setattr(soap_client, "parse_answer", naive_parse)
    outcome, _, _, _ = hostile_call(bench, style, payload, files.urls)
    assert outcome.error is None and outcome.record is not None, outcome.error
    text = str(outcome.record)
    if payload.naive == "leaks":
        assert files.secret in text
    else:
        expanded = "lol" * 10**LEVELS_EXPANDED
        assert expanded in text and len(expanded) > 100 * len(payload.doctype)


def test_the_hostile_answers_fit_the_real_ones(bench: Bench, files: Files) -> None:
    """Without the DOCTYPE the injected answer is an ordinary one: what refuses the
    payloads above is the entity handling, not a broken envelope."""
    plain = Hostile("plain", "", "a plain value")
    for style in STYLES:
        outcome, _, _, _ = hostile_call(bench, style, plain, files.urls)
        assert outcome.record is not None, (style, outcome.error)
        assert "a plain value" in str(outcome.record)


# --- the mock registries' own SOAP servers -----------------------------------------------------

# Each style's request parameter whose text the hostile request replaces.
REQUEST_TARGET = {"shep": "iin", "soap": "iin", "xroad": "plate"}


async def _post(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=data, headers=headers) as answer,
    ):
        return answer.status, await answer.read()


@pytest.fixture(scope="module")
def adapter_requests(bench: Bench) -> dict[str, tuple[str, bytes, dict[str, str]]]:
    """Each style's real request as the adapter sent it: URL at the mock, body, headers."""
    found = {}
    for style, (registry, operation, params, _) in STYLES.items():
        outcome = bench.call(registry, operation, params)
        assert outcome.record is not None, outcome.error
        exchange = bench.relay.exchanges[-1]
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        found[style] = (bench.mocks.base_url + exchange.path, exchange.request, headers)
    return found


@pytest.fixture(scope="module")
def subject_file(files: Files) -> Files:
    """The secret file holding what the request's target says (the IIN, the plate): a
    naive mock reading it answers about that subject."""
    folder = Path(files.urls["secret"].removeprefix("file://")).parent / "subject"
    folder.mkdir(exist_ok=True)
    urls = dict(files.urls)
    for style, (_, _, params, _) in STYLES.items():
        value = params[REQUEST_TARGET[style]]
        (folder / f"{style}.txt").write_text(value)
        (folder / f"{style}.dtd").write_text(
            f'<!ENTITY xxe SYSTEM "{(folder / f"{style}.txt").as_uri()}">'
        )
        (folder / f"{style}-param.dtd").write_text(
            f'<!ENTITY % inner SYSTEM "{(folder / f"{style}.txt").as_uri()}">'
            '<!ENTITY xxe "%inner;">'
        )
        urls[f"{style}-secret"] = (folder / f"{style}.txt").as_uri()
        urls[f"{style}-dtd"] = (folder / f"{style}.dtd").as_uri()
        urls[f"{style}-param"] = (folder / f"{style}-param.dtd").as_uri()
    return Files(files.secret, urls)


def _for_style(urls: dict[str, str], style: str) -> dict[str, str]:
    """The URLs with {secret}, {dtd} and {param} pointing at the style's subject file."""
    return {
        **urls,
        "secret": urls[f"{style}-secret"],
        "dtd": urls[f"{style}-dtd"],
        "param": urls[f"{style}-param"],
    }


def post_hostile(
    bench: Bench,
    adapter_requests: dict[str, tuple[str, bytes, dict[str, str]]],
    subject_file: Files,
    style: str,
    payload: Hostile,
) -> tuple[int, bytes, float]:
    url, body, headers = adapter_requests[style]
    data = inject(body, payload, REQUEST_TARGET[style], _for_style(subject_file.urls, style))
    started = time.monotonic()
    status, answer = bench.run(_post(url, data, headers))
    return status, answer, time.monotonic() - started


@pytest.mark.parametrize("payload", PAYLOADS, ids=lambda p: p.name)
@pytest.mark.parametrize("style", STYLES)
def test_the_mocks_refuse_a_hostile_request(
    bench: Bench,
    adapter_requests: dict[str, tuple[str, bytes, dict[str, str]]],
    subject_file: Files,
    style: str,
    payload: Hostile,
) -> None:
    before = sum(bench.relay.hits.values())
    peak = _peak_mb()
    status, answer, seconds = post_hostile(bench, adapter_requests, subject_file, style, payload)
    assert status == 500, answer
    fault = etree.fromstring(answer, descriptions.secure_parser())
    assert fault.find(".//{http://schemas.xmlsoap.org/soap/envelope/}Fault") is not None
    # Refused for its DTD (or, for the bombs, by libxml2's own limit while reading it),
    # not for what its entities resolved to.
    assert b"DOCTYPE" in answer or b"amplification" in answer, answer
    assert KNOWN[style] not in answer and b"lol" * 100 not in answer
    assert sum(bench.relay.hits.values()) == before
    assert seconds < SECONDS and _peak_mb() - peak < MEGABYTES


@pytest.mark.parametrize(
    "payload", [p for p in PAYLOADS if p.naive == "leaks"], ids=lambda p: p.name
)
@pytest.mark.parametrize("style", STYLES)
def test_a_naive_mock_would_have_answered_it(
    bench: Bench,
    adapter_requests: dict[str, tuple[str, bytes, dict[str, str]]],
    subject_file: Files,
    style: str,
    payload: Hostile,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the mocks' hardened parser swapped for a naive one, the same request reads
    the subject from the file and is answered about that subject."""
    monkeypatch.setattr(descriptions, "parse", naive_parse)
    status, answer, _ = post_hostile(bench, adapter_requests, subject_file, style, payload)
    assert status == 200 and KNOWN[style] in answer, answer


def test_a_naive_parser_expands_the_laughs_a_mock_refuses() -> None:
    payload = next(p for p in PAYLOADS if p.naive == "expands")
    data = (f"<?xml version='1.0'?>{payload.doctype}<x>{payload.reference}</x>").encode()
    assert len(naive_parse(data).text or "") == 3 * 10**LEVELS_EXPANDED > 100 * len(data)
    with pytest.raises(descriptions.UnsafeXml):
        descriptions.parse(data)
