"""e-Akimat kindergarten queue, a REST/JSON API (``adapters/openapi/kindergarten.json``).

``get_queue_position`` by the child's IIN: the child's entry in its city's queue (its
place, counted in order of queueing) or, once enrolled, the kindergarten and place 0. A
child not in the queue is a business "not found" (HTTP 404).

``enqueue`` puts a known child under six at the end of the chosen city's queue and
answers the new entry (HTTP 201). A child already queued or enrolled is refused (HTTP 409,
ALREADY_QUEUED or ALREADY_ENROLLED) whatever the key: one child holds one place. A repeat
with the same ``Idempotency-Key`` gets the first answer and the queue is unchanged.
"""

from importlib.resources import files

from regbus.adapters.kinds import IIN, KEY, enum
from regbus.adapters.spec import Into, Operation, Param, Registry, Rest, Sample

ALIKHAN, UNKNOWN = "261005565684", "940512410508"
# Generated children of the default population: one queued, two under six not queued.
QUEUED, UNQUEUED, UNQUEUED_TOO = "240211586501", "250101654355", "260305613071"

CITY = enum(
    "city",
    *("Astana", "Almaty", "Shymkent", "Kokshetau", "Aktobe", "Konaev", "Atyrau", "Oral"),
    *("Taraz", "Karaganda", "Kostanay", "Kyzylorda", "Aktau", "Turkestan", "Pavlodar"),
    *("Petropavl", "Oskemen", "Semey", "Taldykorgan", "Zhezkazgan"),
)

ENTRY = {
    "child_iin": "child_iin",
    "city": "city",
    "queued_on": "queued_on",
    "status": "status",
    "position": "position",
    "kindergarten": "kindergarten?",
}
ENQUEUE = {"child_iin": UNQUEUED, "city": "Shymkent", "idempotency_key": "contract-queue-0001"}

KINDERGARTEN = Registry(
    registry="kindergarten",
    name="Kindergarten queue (e-Akimat)",
    wire=Rest(openapi=files("regbus.adapters") / "openapi" / "kindergarten.json"),
    sensitivity=("personal",),
    operations=(
        Operation(
            "get_queue_position",
            (Param("child_iin", IIN),),
            call="GET /queue/{child_iin}",
            record=Into("queue_entry", ENTRY),
            echo={"child_iin": "child_iin"},
            sample=Sample(
                {"child_iin": ALIKHAN},
                unknown={"child_iin": UNKNOWN},
                other={"child_iin": QUEUED},
            ),
        ),
        Operation(
            "enqueue",
            (Param("child_iin", IIN), Param("city", CITY), Param("idempotency_key", KEY)),
            call="POST /queue",
            writes=True,
            idempotency_key="idempotency_key",
            record=Into("queue_entry", ENTRY),
            echo={"child_iin": "child_iin"},
            sample=Sample(
                ENQUEUE,
                unknown=ENQUEUE | {"child_iin": UNKNOWN},
                other={"child_iin": UNQUEUED_TOO},
            ),
        ),
    ),
)
