"""The seeded generator of the synthetic people every mock registry shares.

``generate(size, seed)`` makes ``size`` people in households: married couples with their
marriage (and some divorce, name-change and death) acts and children whose birth acts name
both parents, single adults, and a few foreigners on temporary registration. Around them it
builds what the registries hold about them — addresses and registration, driver licences,
vehicles with their insurance policies and technical inspections, fines, real estate and
land with encumbrances, legal entities with their heads, employment and pension
contributions, tax debts, social benefits, the kindergarten queue, mobile numbers, signing
certificates, clinic attachment, and the yes/no registers (narcology, psychiatry, criminal
records) for a small share. Everything agrees: an owner, head, parent or holder always
exists and is alive and of age when it matters; the dead have death acts and hold nothing.

The same size and seed give the same population in any process (no hash-ordered
iteration feeds the random generator). Statuses (valid, expired) are as of ``AS_OF``.
Identifiers never repeat an identifier of ``reserved`` (the demo subjects' facts), and
``NEVER_ISSUED_IIN`` and plates with the letters ``ZZZ`` are never issued.

The rows are plain dicts in the shapes ``regbus.mocks.population`` documents.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import accumulate
from typing import Any

from regbus.adapters.identifiers import check_digit

Row = dict[str, Any]

AS_OF = date(2026, 12, 1)  # the population's "today"
NEVER_ISSUED_IIN = "940512410508"  # a valid IIN that no registry knows
NEVER_ISSUED_PLATE_LETTERS = "ZZZ"  # e.g. 999ZZZ01 is never a vehicle
TODAY = AS_OF.toordinal()
YEAR = 365.2425


def years(n: float) -> int:
    """``n`` years in days, rounded up: 18 years after a birth is never before the birthday."""
    return math.ceil(n * YEAR)


def iso(day: int) -> str:
    return date.fromordinal(day).isoformat()


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Names ---------------------------------------------------------------------------------------
# Surnames are given in their male form; the female form adds "a" (Akhmetov, Akhmetova).
# Kazakh patronymics are the father's name + uly/kyzy (Serikuly, Nurlankyzy); Russian-style
# ones the father's name + ovich/ovna (Ivanovich), ending -ey/-ay or consonant + y: evich/evna.

KAZAKH_MEN = words(
    "Arman Serik Nurlan Marat Kairat Yerlan Bolat Daniyar Askar Azamat Aidos Alibek Almas"
    " Bauyrzhan Dauren Yerzhan Zhandos Kanat Murat Nurzhan Olzhas Rustem Sanzhar Talgat Timur"
    " Yerbol Zhanibek Aibek Beibit Galym Madi Alikhan Amir Temirlan Dias Ansar Arsen Adil Ilyas"
    " Bekzat Ruslan Yerassyl Nurbol Samat"
)
KAZAKH_WOMEN = words(
    "Aigerim Gulnara Zhansaya Aizhan Ainur Aliya Asel Dana Dinara Gaukhar Kamila Karlygash Madina"
    " Meruyert Nazerke Saltanat Symbat Togzhan Zarina Zhuldyz Aruzhan Ayaulym Balnur Inkar Laura"
    " Moldir Nurgul Raushan Sabina Tomiris Akbota Akmaral Assem Bibigul Dariga Elmira Gulmira"
    " Zhanar Ulbossyn Anel"
)
KAZAKH_SURNAMES = words(
    "Akhmetov Bekov Zhaksylykov Omarov Sadykov Nurpeisov Abenov Serikbayev Suleimenov Kassymov"
    " Iskakov Zhumabayev Baimukhanov Tulegenov Mukanov Nurlanov Yessenov Ospanov Kaliyev"
    " Sarsenbayev Abdrakhmanov Amanov Utegenov Yermekov Zhunusov Mukhametov Bekturov Dzhakupov"
    " Kenzhebayev Sultanov Tokhtarov Zhakenov Myrzakhmetov Baitursynov Nurmagambetov Altynbekov"
    " Alimzhanov Smagulov Akhmediyarov Temirkhanov Satybaldiyev Yerzhanov"
)
RUSSIAN_MEN = words(
    "Ivan Sergey Andrey Aleksey Nikolay Matvey Yury Evgeny Anatoly Gennady Vitaly Valery Dmitry"
    " Viktor Boris Roman Denis Maksim Artem Vadim Konstantin Stanislav Vladimir Aleksandr Anton"
    " Ruslan Oleg Arkady Bogdan Gleb"
)
RUSSIAN_WOMEN = words(
    "Natalya Elena Olga Tatyana Irina Svetlana Anna Maria Ekaterina Yulia Anastasia Galina"
    " Lyudmila Marina Oksana Valentina Viktoria Daria Kristina Polina Alina Sofia Veronika Larisa"
    " Nadezhda Vera Ksenia"
)
RUSSIAN_SURNAMES = words(
    "Ivanov Petrov Smirnov Kuznetsov Popov Sokolov Lebedev Kozlov Novikov Morozov Volkov"
    " Solovyov Vasilyev Zaytsev Pavlov Semyonov Golubev Vinogradov Bogdanov Vorobyov Fyodorov"
    " Mikhaylov Belyaev Tarasov Belov Komarov Orlov Kiselyov Makarov Andreev Kovalyov Ilyin Gusev"
    " Titov Kuzmin Kudryavtsev Baranov Kulikov Alekseev Stepanov Yakovlev Sorokin Nikitin Zakharov"
)
CENTRAL_ASIAN_MEN = words("Akmal Bakhodir Jasur Rustam Sherzod Azamat Bakyt Nurbek Talant Ulan")
CENTRAL_ASIAN_WOMEN = words("Dilnoza Gulnoza Malika Nodira Zulfiya Aizada Begimai Cholpon Gulzat")
CENTRAL_ASIAN_SURNAMES = words(
    "Karimov Rakhimov Yusupov Tursunov Abdullaev Asanov Dzhumabaev Mamytov Sydykov Toktogulov"
)


@dataclass(frozen=True)
class Naming:
    men: Sequence[str]
    women: Sequence[str]
    surnames: Sequence[str]
    kazakh: bool  # uly/kyzy patronymics


KAZAKH = Naming(KAZAKH_MEN, KAZAKH_WOMEN, KAZAKH_SURNAMES, kazakh=True)
RUSSIAN = Naming(RUSSIAN_MEN, RUSSIAN_WOMEN, RUSSIAN_SURNAMES, kazakh=False)
CENTRAL_ASIAN = Naming(CENTRAL_ASIAN_MEN, CENTRAL_ASIAN_WOMEN, CENTRAL_ASIAN_SURNAMES, False)


def surname(base: str, sex: str) -> str:
    return base if sex == "M" else base + "a"


def patronymic(father: str, sex: str, kazakh: bool) -> str:
    """From the father's first name: Serik -> Serikuly/Serikkyzy, Ivan -> Ivanovich/Ivanovna."""
    if kazakh:
        return father + ("uly" if sex == "M" else "kyzy")
    if father.endswith(("ey", "ay")):
        stem = father[:-1] + "ev"
    elif father.endswith("y"):
        stem = father + "ev"
    else:
        stem = father + "ov"
    return stem + ("ich" if sex == "M" else "na")


# Places ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    code: str  # the plate's region code, also the start of address codes
    name: str
    city: str  # the city the region's people live in (the centre)
    weight: int
    districts: tuple[str, ...] = ()


REGIONS = (
    Region("01", "Astana", "Astana", 14, ("Yesil", "Almaty", "Saryarka", "Baikonur", "Nura")),
    Region("02", "Almaty", "Almaty", 16, ("Almaly", "Auezov", "Bostandyk", "Medeu", "Turksib")),
    Region("17", "Shymkent", "Shymkent", 8, ("Abay", "Al-Farabi", "Enbekshi", "Karatau")),
    Region("03", "Akmola region", "Kokshetau", 3),
    Region("04", "Aktobe region", "Aktobe", 5),
    Region("05", "Almaty region", "Konaev", 4),
    Region("06", "Atyrau region", "Atyrau", 4),
    Region("07", "West Kazakhstan region", "Oral", 3),
    Region("08", "Zhambyl region", "Taraz", 5),
    Region("09", "Karaganda region", "Karaganda", 6),
    Region("10", "Kostanay region", "Kostanay", 4),
    Region("11", "Kyzylorda region", "Kyzylorda", 4),
    Region("12", "Mangystau region", "Aktau", 4),
    Region("13", "Turkestan region", "Turkestan", 6),
    Region("14", "Pavlodar region", "Pavlodar", 4),
    Region("15", "North Kazakhstan region", "Petropavl", 3),
    Region("16", "East Kazakhstan region", "Oskemen", 4),
    Region("18", "Abai region", "Semey", 3),
    Region("19", "Zhetysu region", "Taldykorgan", 3),
    Region("20", "Ulytau region", "Zhezkazgan", 1),
)
BIG_CITIES = REGIONS[:3]  # where most foreigners register
# A city's earlier names, for the civil registry offices of the day: (first year of the
# next name, earlier name). Birth places use today's names, as the demo subjects do.
FORMER_NAMES = {
    "Astana": ((1992, "Tselinograd"), (1998, "Akmola")),
    "Almaty": ((1993, "Alma-Ata"),),
    "Konaev": ((2022, "Kapshagay"),),
    "Taraz": ((1997, "Dzhambul"),),
    "Aktau": ((1992, "Shevchenko"),),
    "Semey": ((2007, "Semipalatinsk"),),
    "Oskemen": ((1993, "Ust-Kamenogorsk"),),
    "Oral": ((1992, "Uralsk"),),
}
FOREIGN = {  # citizenship: naming, birth places, passport number format
    "RUS": (RUSSIAN, ("Omsk", "Novosibirsk", "Moscow", "Yekaterinburg", "Samara"), "{:02d} {:07d}"),
    "UZB": (CENTRAL_ASIAN, ("Tashkent", "Samarkand", "Bukhara"), "FA{:02d}{:05d}"),
    "KGZ": (CENTRAL_ASIAN, ("Bishkek", "Osh"), "AC{:02d}{:05d}"),
}
FOREIGN_SHARE = (("RUS", 6), ("UZB", 3), ("KGZ", 2))
STREETS = (
    "Abay avenue",
    "Dostyk street",
    "Kabanbay Batyr avenue",
    "Respublika avenue",
    "Seifullin street",
    "Tole Bi street",
    "Satpayev street",
    "Zhambyl street",
    "Baitursynov street",
    "Kunaev street",
    "Pushkin street",
    "Gogol street",
    "Mira street",
    "Auezov street",
    "Al-Farabi avenue",
    "Turan avenue",
    "Mangilik El avenue",
    "Bukhar Zhyrau avenue",
    "Tauke Khan avenue",
    "Zheltoksan street",
    "Nauryzbay Batyr street",
    "Kenesary street",
    "Beibitshilik street",
    "Shokan Ualikhanov street",
)

# Vehicles ------------------------------------------------------------------------------------
MAKES = (  # make, weight, models, world manufacturer identifiers
    ("Toyota", 16, ("Camry", "Corolla", "RAV4", "Land Cruiser Prado", "Hilux"), ("JTM", "JTD")),
    ("Hyundai", 12, ("Accent", "Elantra", "Tucson", "Santa Fe", "Creta"), ("KMH", "Z94")),
    ("Lada", 12, ("Granta", "Vesta", "Niva Legend", "Largus", "Priora"), ("XTA",)),
    ("Chevrolet", 10, ("Cobalt", "Nexia", "Lacetti", "Spark", "Tracker", "Onix"), ("XWB", "KL1")),
    ("Kia", 8, ("Rio", "Sportage", "K5", "Sorento", "Cerato"), ("KNA", "XWE")),
    ("Volkswagen", 5, ("Polo", "Passat", "Tiguan", "Jetta"), ("WVW", "XW8")),
    ("Mercedes-Benz", 4, ("E-Class", "C-Class", "Sprinter"), ("WDD", "WDB")),
    ("Lexus", 4, ("RX", "LX", "ES"), ("JTH", "JTJ")),
    ("Nissan", 4, ("Almera", "X-Trail", "Qashqai"), ("JN1", "SJN")),
    ("Mitsubishi", 3, ("Outlander", "Pajero", "Lancer"), ("JMB",)),
    ("Audi", 2, ("A6", "A4", "Q7"), ("WAU",)),
    ("BMW", 2, ("5 Series", "X5"), ("WBA",)),
    ("Skoda", 3, ("Octavia", "Rapid", "Kodiaq"), ("TMB",)),
    ("Renault", 3, ("Logan", "Duster", "Sandero"), ("VF1", "X7L")),
    ("Honda", 2, ("CR-V", "Accord", "Civic"), ("JHM", "SHH")),
    ("Geely", 2, ("Coolray", "Monjaro", "Atlas"), ("L6T",)),
    ("Chery", 2, ("Tiggo 7 Pro", "Tiggo 4"), ("LVV",)),
    ("Haval", 2, ("Jolion", "H6"), ("LGW",)),
    ("GAZ", 1, ("Gazelle Next",), ("X96",)),
)
COLOURS = ("white", "black", "grey", "silver", "red", "blue", "beige", "green", "brown")
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # no I, O or Q
VIN_YEARS = "ABCDEFGHJKLMNPRSTVWXY123456789"  # the model-year letter, 1980 = A, repeating
INSURERS = (
    "Nomad Demo Insurance",
    "Steppe Demo Insurance",
    "Altyn Demo Insurance",
    "Baiterek Demo Insurance",
)
MRP = {2023: 3450, 2024: 3692, 2025: 3932, 2026: 4325}  # monthly calculation index, tenge
OFFENCES = (  # article, what, fine in MRP, with a vehicle
    ("CAO 592.1", "speeding by 10-20 km/h", 5, True),
    ("CAO 592.2", "speeding by 20-40 km/h", 10, True),
    ("CAO 592.3", "speeding by more than 40 km/h", 20, True),
    ("CAO 596.1", "running a red light", 10, True),
    ("CAO 597.1", "parking where it is prohibited", 5, True),
    ("CAO 598.1", "driving without a seat belt", 3, True),
    ("CAO 505.1", "littering in a public place", 5, False),
    ("CAO 434.1", "petty hooliganism", 10, False),
)
LICENCE_EXTRAS = (("A", 0.08), ("C", 0.15), ("D", 0.03), ("BE", 0.05), ("CE", 0.04))

# Entities, money, registers --------------------------------------------------------------------
ENTITY_WORDS = words(
    "Dala Steppe Nomad Altyn Kok Aksu Baiterek Tulpar Sunkar Zhuldyz Ak Zhol Kazyna Orda"
    " Saryarka Irbis Bereke Shanyrak Keruen Alatau Yessil Ertis Zhetisu Atameken Temir Arna"
)
ACTIVITIES = (  # name part, activity
    ("Logistics", "freight transport by road"),
    ("Trade", "wholesale trade"),
    ("Stroy", "construction of buildings"),
    ("Service", "repair and maintenance of vehicles"),
    ("Agro", "growing of cereals"),
    ("Invest", "management consultancy"),
    ("Energy", "electricity distribution"),
    ("Telecom", "telecommunications"),
    ("Med", "medical practice"),
    ("Food", "restaurants"),
    ("Auto", "retail sale of vehicles"),
    ("Pharm", "retail sale of medicines"),
    ("Tech", "computer programming"),
)
BANKS = 4  # the first entities are banks: mortgage holders
CONVICTIONS = (
    ("CC 188.2", "theft", "2 years of restricted freedom"),
    ("CC 190.2", "fraud", "3 years of restricted freedom"),
    ("CC 293.1", "hooliganism", "a fine"),
    ("CC 345.3", "causing a road accident", "2 years of imprisonment"),
    ("CC 296.1", "illegal drug possession", "1 year of restricted freedom"),
)
VACCINES = (  # vaccine, age in days (the national calendar, abridged)
    ("BCG", 1),
    ("Hepatitis B 1", 1),
    ("Hepatitis B 2", 60),
    ("DTP 1", 60),
    ("DTP 2", 90),
    ("DTP 3", 120),
    ("MMR 1", 365),
    ("MMR 2", 6 * 365),
    ("Td", 16 * 365),
)
OPERATORS = (("Kcell", "701 702 775 778"), ("Beeline", "705 777 771 776"), ("Tele2", "707 747"))
OPERATOR_CODES = tuple((name, code) for name, codes in OPERATORS for code in codes.split())
BIRTH_BENEFIT_MRP = 38  # one-time, for the first three children; 63 from the fourth
CHILD_CARE = 28_000  # tenge a month, until a child is 1.5
LARGE_FAMILY = 68_000  # four children and more under 18
BASIC_PENSION = 36_000
DISABILITY = {"I": 92_000, "II": 74_000, "III": 50_000}


# The generator -------------------------------------------------------------------------------


@dataclass(eq=False)
class Life:
    """What the generator knows about one person besides the registry rows."""

    person: Row
    sex: str
    born: int
    region: Region
    citizen: bool = True
    died: int | None = None
    home: str = ""  # address code of the registration
    children: list[Life] = field(default_factory=list)
    father: Life | None = None
    mother: Life | None = None

    @property
    def iin(self) -> str:
        return str(self.person["iin"])

    def age(self, on: int = TODAY) -> float:
        return (on - self.born) / YEAR

    def alive(self, on: int = TODAY) -> bool:
        return self.died is None or self.died > on


class Generator:
    """One run of ``generate``: the random generator, the identifiers taken, the rows."""

    def __init__(self, size: int, seed: int, reserved: Iterable[str] = ()) -> None:
        self.size = size
        self.r = random.Random(seed)
        # "" stands for numbers never issued (no check digit, the letters ZZZ): taken too
        self.taken: set[str] = {"", NEVER_ISSUED_IIN, *reserved}
        self.counters: dict[str, int] = {}
        self.lives: list[Life] = []
        self.rows: dict[str, list[Row]] = {}
        self.region_weights = list(accumulate(r.weight for r in REGIONS))
        self.make_weights = list(accumulate(m[1] for m in MAKES))
        self.foreign_weights = list(accumulate(w for _, w in FOREIGN_SHARE))
        self.households: list[tuple[str, list[Life]]] = []

    # identifiers ------------------------------------------------------------------------

    def _unique(self, make: Any) -> str:
        """A new identifier from ``make()``, never one taken before."""
        while True:
            value = make()
            if value not in self.taken:
                self.taken.add(value)
                return str(value)

    def _numbered(self, prefix: str, year: int, width: int = 7) -> str:
        """PREFIX-YEAR-NNNNNNN, counting per prefix and year."""
        key = f"{prefix}-{year}"
        while True:
            n = self.counters.get(key, 0) + self.r.randint(1, 9)
            self.counters[key] = n
            value = f"{key}-{n:0{width}d}"
            if value not in self.taken:
                self.taken.add(value)
                return value

    def iin(self, born: int, sex: str) -> str:
        d = date.fromordinal(born)
        century = {18: 1, 19: 3, 20: 5}[d.year // 100] + (sex == "F")
        head = f"{d.year % 100:02d}{d.month:02d}{d.day:02d}{century}"
        return self._unique(lambda: _with_check(f"{head}{self.r.randrange(10_000):04d}"))

    def bin(self, registered: int, kind: str = "4", unit: str = "0") -> str:
        d = date.fromordinal(registered)
        head = f"{d.year % 100:02d}{d.month:02d}{kind}{unit}"
        return self._unique(lambda: _with_check(f"{head}{self.r.randrange(100_000):05d}"))

    # rows ------------------------------------------------------------------------------

    def add(self, collection: str, row: Row) -> Row:
        self.rows.setdefault(collection, []).append(row)
        return row

    def region(self) -> Region:
        weights = self.region_weights
        return REGIONS[bisect.bisect(weights, self.r.random() * weights[-1])]

    def office(self, city: str, day: int) -> str:
        year = date.fromordinal(day).year
        name = next((old for until, old in FORMER_NAMES.get(city, ()) if year < until), city)
        region = next(r for r in REGIONS if r.city == city)
        if region.districts and year >= 1998 and self.r.random() < 0.7:
            return f"{name}, {self.r.choice(region.districts)} district civil registry office"
        return f"{name} city civil registry office"

    def act(self, kind: str, prefix: str, day: int, city: str, **people: Any) -> Row:
        registered = min(day, TODAY)
        return self.add(
            "civil_acts",
            {
                "act_number": self._numbered(prefix, date.fromordinal(registered).year),
                "type": kind,
                "registered_on": iso(registered),
                "office": self.office(city, registered),
                **people,
            },
        )

    def address(self, region: Region, kind: str = "apartment") -> str:
        """A new address of ``kind`` (apartment, house or office) in the region's city."""
        r = self.r
        code = self._unique(lambda: f"{region.code}{r.randrange(10**14):014d}")
        self.add(
            "addresses",
            {
                "code": code,
                "region_code": region.code,
                "region": region.name,
                "city": region.city,
                "street": r.choice(STREETS),
                "house": str(r.randint(1, 250)),
                "flat": str(r.randint(1, 180)) if kind == "apartment" else "",
                "kind": kind,
            },
        )
        return code

    # people ----------------------------------------------------------------------------

    def room(self) -> bool:
        return len(self.lives) < self.size

    def person(
        self,
        sex: str,
        born: int,
        naming: Naming,
        family: str,
        father_name: str,
        region: Region,
        *,
        citizenship: str = "KAZ",
        birth_place: str | None = None,
        document: str | None = None,
    ) -> Life:
        r = self.r
        first = r.choice(naming.men if sex == "M" else naming.women)
        citizen = citizenship == "KAZ"
        if document is None:
            document = ""
            if citizen and (TODAY - born) >= years(16):
                document = self._unique(lambda: f"N{r.randrange(10**8):08d}")
        row = {
            "iin": self.iin(born, sex),
            "last_name": surname(family, sex),
            "first_name": first,
            "patronymic": patronymic(father_name, sex, naming.kazakh),
            "sex": sex,
            "birth_date": iso(born),
            "birth_place": birth_place or region.city,
            "citizenship": citizenship,
            "document_number": document,
        }
        life = Life(row, sex, born, region, citizen=citizen)
        self.lives.append(life)
        return life

    def native(self, sex: str, born: int, naming: Naming, family: str, region: Region) -> Life:
        """An adult citizen whose parents are not in the population; born here mostly."""
        father = self.r.choice(naming.men)
        if self.r.random() < 0.93:
            life = self.person(sex, born, naming, family, father, region)
            self.act("birth", "BR", born + self.r.randint(2, 14), region.city, subject_iin=life.iin)
            return life
        place = self.r.choice(FOREIGN["RUS"][1] + FOREIGN["UZB"][1])
        return self.person(sex, born, naming, family, father, region, birth_place=place)

    def household(self) -> None:
        roll = self.r.random()
        if roll < 0.03:
            self.foreigner()
        elif roll < 0.62:
            self.family()
        else:
            self.single()

    def naming(self) -> Naming:
        return KAZAKH if self.r.random() < 0.72 else RUSSIAN

    def adult_birth(self, low: float, high: float) -> int:
        """A birth day for someone low..high years old, younger ages more likely."""
        age = low + (high - low) * self.r.random() ** 1.3
        return TODAY - years(age)

    def family(self) -> None:
        r = self.r
        region, naming = self.region(), self.naming()
        family = r.choice(naming.surnames)
        husband_born = self.adult_birth(21, 88)
        wife_born = min(husband_born + r.randint(-years(2), years(7)), TODAY - years(19))
        husband = self.native("M", husband_born, naming, family, region)
        if not self.room():  # the population is full: he stays single
            self.mortality(husband, husband.born + years(18))
            self.households.append((self.home(region, [husband]), [husband]))
            return
        maiden = r.choice(naming.surnames)
        wife = self.native("F", wife_born, naming, maiden, region)
        took_name = r.random() < 0.8
        if took_name:
            wife.person["last_name"] = surname(family, "F")
        wed = min(max(husband_born, wife_born) + years(18) + r.randint(0, years(12)), TODAY - 7)
        self.act("marriage", "MR", wed, region.city, spouse_iins=[husband.iin, wife.iin])
        divorced = None
        if TODAY - wed > years(2) and r.random() < 0.16:
            divorced = wed + r.randint(years(1), TODAY - wed - 1)
            self.act("divorce", "DV", divorced, region.city, spouse_iins=[husband.iin, wife.iin])
        last_event = {husband: wed, wife: wed}
        end = min(TODAY - 1, wife_born + years(42), divorced or TODAY)
        day = wed + r.randint(270, years(2.5))
        wanted = r.choices((0, 1, 2, 3, 4, 5), (14, 25, 30, 18, 9, 4))[0]
        while len(husband.children) < wanted and day <= end and self.room():
            sex = r.choice("MF")
            child = self.person(sex, day, naming, family, husband.person["first_name"], region)
            child.father, child.mother = husband, wife
            husband.children.append(child)
            wife.children.append(child)
            self.act(
                "birth",
                "BR",
                day + r.randint(2, 14),
                region.city,
                subject_iin=child.iin,
                father_iin=husband.iin,
                mother_iin=wife.iin,
            )
            last_event[husband] = last_event[wife] = day
            day += r.randint(years(1), years(4))
        if divorced is not None:
            last_event[husband] = last_event[wife] = max(last_event[wife], divorced)
            if took_name and r.random() < 0.5:
                changed = min(divorced + r.randint(10, 200), TODAY - 1)
                self.act(
                    "name_change",
                    "NC",
                    changed,
                    region.city,
                    subject_iin=wife.iin,
                    previous_last_name=wife.person["last_name"],
                    new_last_name=surname(maiden, "F"),
                )
                wife.person["last_name"] = surname(maiden, "F")
                last_event[wife] = changed
        for life in (husband, wife, *husband.children):
            self.mortality(life, last_event.get(life, life.born))
        if divorced is None:
            together = [husband, wife]
        else:
            together = [wife]
            self.households.append((self.home(region, [husband], since=divorced), [husband]))
        young = [c for c in husband.children if c.age() < 25 or r.random() < 0.2]
        self.households.append((self.home(region, together + young, since=wed), together + young))
        for child in husband.children:
            if child not in young:
                moved = child.born + r.randint(years(18), years(25))
                self.households.append((self.home(region, [child], since=moved), [child]))

    def single(self) -> None:
        r = self.r
        region, naming = self.region(), self.naming()
        sex = r.choice("MF")
        life = self.native(sex, self.adult_birth(18, 85), naming, r.choice(naming.surnames), region)
        self.mortality(life, life.born + years(18))
        since = life.born + r.randint(years(18), max(years(18), TODAY - life.born))
        self.households.append((self.home(region, [life], since=since), [life]))

    def foreigner(self) -> None:
        r = self.r
        pick = bisect.bisect(self.foreign_weights, r.random() * self.foreign_weights[-1])
        citizenship = FOREIGN_SHARE[pick][0]
        naming, places, passport = FOREIGN[citizenship]
        region = r.choice(BIG_CITIES)
        sex = "M" if r.random() < 0.65 else "F"
        document = self._unique(lambda: passport.format(r.randint(10, 99), r.randrange(10**5)))
        life = self.person(
            sex,
            self.adult_birth(20, 60),
            naming,
            r.choice(naming.surnames),
            r.choice(naming.men),
            region,
            citizenship=citizenship,
            birth_place=r.choice(places),
            document=document,
        )
        address = self.address(region)
        registered = TODAY - r.randint(5, 330)
        valid_to = iso(registered + 365)
        life.home = address
        self.add(
            "registrations",
            {
                "iin": life.iin,
                "address_code": address,
                "kind": "TEMPORARY",
                "registered_on": iso(registered),
                "valid_to": valid_to,
            },
        )
        self.add(
            "migration",
            {
                "iin": life.iin,
                "citizenship": citizenship,
                "document_number": document,
                "purpose": r.choice(("work", "work", "study", "family")),
                "address_code": address,
                "registered_on": iso(registered),
                "valid_to": valid_to,
                "status": "ACTIVE",
            },
        )

    def mortality(self, life: Life, after: int) -> None:
        """Perhaps this person has died, some time after their last act; a death act."""
        age = life.age()
        if age < 40:
            return
        chance = 0.004 + min(0.55, ((age - 45) / 45) ** 2 * 0.5) * (age > 45)
        earliest = max(after + 30, life.born + years(40))
        if earliest >= TODAY or self.r.random() >= chance:
            return
        died = self.r.randint(earliest, TODAY - 1)
        life.died = died
        life.person["death_date"] = iso(died)
        self.act("death", "DT", died + self.r.randint(0, 3), life.region.city, subject_iin=life.iin)

    def home(self, region: Region, members: list[Life], since: int | None = None) -> str:
        """A new address, with the registration of those of ``members`` alive."""
        r = self.r
        code = self.address(region, "house" if r.random() < 0.2 else "apartment")
        for life in members:
            life.home = code
            if life.alive():
                start = max(life.born + r.randint(3, 30), since or 0)
                self.add(
                    "registrations",
                    {
                        "iin": life.iin,
                        "address_code": code,
                        "kind": "PERMANENT",
                        "registered_on": iso(min(start, TODAY)),
                    },
                )
        return code

    # what people hold ------------------------------------------------------------------

    def adults(self, age: float = 18) -> list[Life]:
        return [x for x in self.lives if x.alive() and x.age() >= age]

    def entities(self) -> list[Row]:
        r = self.r
        heads = [x for x in self.adults(25) if x.citizen]
        count = min(len(heads), max(BANKS + 1, self.size // 40)) if self.size >= 40 else 0
        made: list[Row] = []
        names: set[str] = set()
        for n in range(count):
            head = r.choice(heads)
            start = max(head.born + years(21), date(1995, 1, 1).toordinal())
            registered = r.randint(start, TODAY - 30)
            word = r.choice(ENTITY_WORDS)
            if n < BANKS:
                part, activity, form, unit = "Bank", "banking", "AO", "0"
            elif r.random() < 0.04:
                part, activity, form, unit = "", "growing of cereals", "KH", "3"
            else:
                (part, activity), form, unit = r.choice(ACTIVITIES), "TOO", "0"
            name = f"{word} {part}".strip()
            while name in names or name in self.taken:
                name = f"{name} {r.randint(2, 99)}"
            names.add(name)
            active = n < BANKS or r.random() < 0.95
            row = {
                "bin": self.bin(registered, "4", unit),
                "name": name,
                "legal_form": form,
                "registered_on": iso(registered),
                "city": head.region.city,
                "address_code": self.address(head.region, "office"),
                "activity": activity,
                "status": "ACTIVE" if active else "LIQUIDATED",
                "heads": [{"iin": head.iin, "position": "director", "since": iso(registered)}],
            }
            if not active:
                row["liquidated_on"] = iso(r.randint(registered + 1, TODAY))
            made.append(self.add("entities", row))
        return made

    def occupations(self, entities: list[Row]) -> None:
        r = self.r
        employers = [e for e in entities if e["status"] == "ACTIVE"]
        for life in self.lives:
            if not life.alive() or life.age() < 6:
                continue
            age, row = life.age(), {"iin": life.iin}
            retire = 63 if life.sex == "M" else 61
            if age < 18:
                row["status"] = "PUPIL"
            elif age < 23 and r.random() < 0.6:
                row |= {"status": "STUDENT", "institution": f"{life.region.city} State University"}
            elif age >= retire:
                row["status"] = "RETIRED"
            elif employers and r.random() < 0.7:
                row |= {"status": "EMPLOYED", "employer_bin": r.choice(employers)["bin"]}
                row["position"] = r.choice(("engineer", "driver", "accountant", "manager"))
            elif r.random() < 0.35:
                row["status"] = "SELF_EMPLOYED"
            else:
                row["status"] = "UNEMPLOYED"
            self.add("occupations", row)
            if row["status"] in ("EMPLOYED", "SELF_EMPLOYED"):
                self.pension(life.iin, row.get("employer_bin", life.iin))

    def pension(self, iin: str, agent: str) -> None:
        r = self.r
        amount = r.randrange(15_000, 120_000, 500)
        months = [
            f"{(AS_OF.month - k - 1) // 12 + AS_OF.year}-{(AS_OF.month - k - 1) % 12 + 1:02d}"
            for k in range(6, 0, -1)
        ]
        self.add(
            "pension",
            {
                "iin": iin,
                "balance": amount * r.randint(12, 300),
                "contributions": [{"period": m, "amount": amount, "agent": agent} for m in months],
            },
        )

    def drivers(self) -> None:
        r = self.r
        for life in self.adults(18):
            if not life.citizen or r.random() >= (0.72 if life.sex == "M" else 0.42):
                continue
            issued = r.randint(min(life.born + years(18), TODAY - 1), TODAY - 1)
            while issued + years(10) < TODAY and r.random() < 0.85:
                issued += years(10)  # renewed
            categories = ["B"] + [c for c, p in LICENCE_EXTRAS if r.random() < p]
            row = {
                "iin": life.iin,
                "number": self._unique(
                    lambda: (
                        f"{r.choice('ABCEHKMPTX')}{r.choice('ABCEHKMPTX')}{r.randrange(10**6):06d}"
                    )
                ),
                "categories": sorted(categories),
                "issued_on": iso(issued),
                "valid_to": iso(issued + years(10) - 1),
                "status": "VALID" if issued + years(10) - 1 >= TODAY else "EXPIRED",
            }
            if row["status"] == "VALID" and r.random() < 0.02:
                row |= {
                    "status": "REVOKED",
                    "revoked_on": iso(r.randint(issued, TODAY - 1)),
                    "revocation_reason": "court decision",
                }
            self.add("licences", row)
            cars = 0 if r.random() < 0.4 else (2 if r.random() < 0.1 else 1)
            for _ in range(cars):
                self.vehicle(life)

    def vehicle(self, owner: Life) -> None:
        r = self.r
        make_at = bisect.bisect(self.make_weights, r.random() * self.make_weights[-1])
        make, _, models, wmis = MAKES[make_at]
        year = AS_OF.year - min(int(r.expovariate(1 / 8)), 30)
        start = max(owner.born + years(18), date(year, 1, 1).toordinal())
        if start >= TODAY:
            return
        registered = r.randint(start, TODAY - 1)

        def vin() -> str:
            body = "".join(r.choices(VIN_CHARS, k=5))
            check = r.choice("0123456789X")
            plant = r.choice(VIN_CHARS)
            return f"{r.choice(wmis)}{body}{check}{VIN_YEARS[(year - 1980) % 30]}{plant}" + (
                f"{r.randrange(10**6):06d}"
            )

        def plate() -> str:
            letters = "".join(r.choices("ABCDEFGHKLMNOPRSTUVXYZ", k=3))
            if letters == NEVER_ISSUED_PLATE_LETTERS:
                return ""
            return f"{r.randint(1, 999):03d}{letters}{owner.region.code}"

        row: Row = {
            "plate": self._unique(plate),
            "vin": self._unique(vin),
            "make": make,
            "model": r.choice(models),
            "year": year,
            "colour": r.choice(COLOURS),
            "owner_iin": owner.iin,
            "registered_on": iso(registered),
            "status": "wanted" if r.random() < 0.003 else "registered",
        }
        self.add("vehicles", row)
        self.policies(row, registered)
        self.inspection(row, owner)
        self.fines(owner, row["plate"], registered)

    def policies(self, vehicle: Row, registered: int) -> None:
        r = self.r
        start = registered
        while start + 365 <= TODAY - years(3):
            start += years(1)
        lapsed = r.random() < 0.12  # the owner has not renewed
        while start <= TODAY:
            end = start + years(1) - 1
            last = end >= TODAY
            if last and lapsed:
                break
            if r.random() < 0.93 or last:
                status = "VALID" if end >= TODAY else "EXPIRED"
                if status == "EXPIRED" and r.random() < 0.02:
                    status = "TERMINATED"
                year = date.fromordinal(start).year
                self.add(
                    "policies",
                    {
                        "plate": vehicle["plate"],
                        "policy_number": self._numbered("OGPO", year, width=8),
                        "insurer": r.choice(INSURERS),
                        "valid_from": iso(start),
                        "valid_to": iso(end),
                        "status": status,
                    },
                )
            start = end + 1

    def inspection(self, vehicle: Row, owner: Life) -> None:
        """Cars of seven years and older pass a yearly technical inspection."""
        r = self.r
        if AS_OF.year - vehicle["year"] < 7:
            return
        inspected = TODAY - r.randint(1, 600)
        if inspected < date.fromisoformat(vehicle["registered_on"]).toordinal():
            return
        valid_to = inspected + years(1) - 1
        self.add(
            "inspections",
            {
                "certificate_number": self._numbered("TO", date.fromordinal(inspected).year),
                "plate": vehicle["plate"],
                "vin": vehicle["vin"],
                "inspected_on": iso(inspected),
                "valid_to": iso(valid_to),
                "result": "PASSED",
                "station": f"{owner.region.city} technical inspection centre No. {r.randint(1, 6)}",
                "status": "VALID" if valid_to >= TODAY else "EXPIRED",
            },
        )

    def fines(self, offender: Life, plate: str, since: int) -> None:
        r = self.r
        count = min(int(r.expovariate(1.1)), 6)
        earliest = max(since, date(2023, 1, 1).toordinal())
        for _ in range(count if earliest < TODAY else 0):
            article, what, mrp, by_car = r.choice(OFFENCES[:6] if plate else OFFENCES[6:])
            issued = r.randint(earliest, TODAY - 1)
            year = date.fromordinal(issued).year
            unpaid = r.random() < (0.5 if TODAY - issued < 60 else 0.06)
            row = {
                "fine_number": self._numbered("EF", year, width=8),
                "iin": offender.iin,
                "plate": plate if by_car else "",
                "article": article,
                "description": what,
                "amount": mrp * MRP[year],
                "issued_on": iso(issued),
                "status": "UNPAID" if unpaid else "PAID",
            }
            if not unpaid:
                row["paid_on"] = iso(min(issued + r.randint(1, 30), TODAY))
            self.add("fines", row)

    def property(self, entities: list[Row]) -> None:
        r = self.r
        banks = entities[:BANKS]
        addresses = {a["code"]: a for a in self.rows.get("addresses", ())}
        for code, members in self.households:
            living = [x for x in members if x.alive() and x.age() >= 18]
            if not living or r.random() >= 0.6:
                continue
            owner = living[0]
            address = addresses[code]
            region_code = address["region_code"]
            acquired = r.randint(min(owner.born + years(18), TODAY - 1), TODAY - 1)
            block = f"{region_code}:{r.randrange(1000):03d}:{r.randrange(1000):03d}"
            row: Row = {"kind": address["kind"], "address_code": code}
            if address["kind"] == "house":
                parcel = self._unique(lambda b=block: f"{b}:{r.randrange(1000):03d}")
                self.add(
                    "parcels",
                    {
                        "cadastral_number": parcel,
                        "purpose": "individual housing",
                        "area_ha": round(r.uniform(0.04, 0.2), 3),
                        "region": address["region"],
                        "owner": owner.iin,
                        "acquired_on": iso(acquired),
                    },
                )
                number = parcel + ":1"
                row |= {"area": round(r.uniform(80, 260), 1), "rooms": r.randint(3, 7)}
                row["parcel"] = parcel
            else:
                number = self._unique(
                    lambda b=block, flat=address["flat"]: f"{b}:{r.randrange(1000):03d}:{flat}"
                )
                row |= {"area": round(r.uniform(30, 130), 1), "rooms": r.randint(1, 4)}
            row = {
                "cadastral_number": number,
                **row,
                "owner": owner.iin,
                "acquired_on": iso(acquired),
            }
            self.add("properties", row)
            if banks and TODAY - acquired < years(15) and r.random() < 0.25:
                bank = r.choice(banks)
                self.add(
                    "encumbrances",
                    {
                        "encumbrance_number": self._numbered("EN", date.fromordinal(acquired).year),
                        "cadastral_number": number,
                        "kind": "MORTGAGE",
                        "holder": f'{bank["legal_form"]} "{bank["name"]}"',
                        "holder_bin": bank["bin"],
                        "registered_on": iso(acquired),
                        "until": iso(acquired + years(r.choice((15, 20)))),
                    },
                )
        for entity in entities[BANKS:]:
            if entity["status"] != "ACTIVE" or r.random() >= 0.4:
                continue
            region = next(x for x in REGIONS if x.city == entity["city"])
            if entity["legal_form"] == "KH":
                self.add(
                    "parcels",
                    {
                        "cadastral_number": self._unique(
                            lambda c=region.code: (
                                f"{c}:{r.randrange(1000):03d}:"
                                f"{r.randrange(1000):03d}:{r.randrange(1000):03d}"
                            )
                        ),
                        "purpose": "agricultural",
                        "area_ha": round(r.uniform(50, 2000), 1),
                        "region": region.name,
                        "owner": entity["bin"],
                        "acquired_on": entity["registered_on"],
                    },
                )
                continue
            self.add(
                "properties",
                {
                    "cadastral_number": self._unique(
                        lambda c=region.code: (
                            f"{c}:{r.randrange(1000):03d}:"
                            f"{r.randrange(1000):03d}:{r.randrange(1000):03d}:C"
                        )
                    ),
                    "kind": "commercial",
                    "address_code": entity["address_code"],
                    "area": round(r.uniform(60, 2000), 1),
                    "rooms": r.randint(2, 40),
                    "owner": entity["bin"],
                    "acquired_on": entity["registered_on"],
                },
            )

    def taxes(self, entities: list[Row]) -> None:
        r = self.r
        owns: dict[str, set[str]] = {}
        for collection, tax, key in (
            ("vehicles", "vehicle tax", "owner_iin"),
            ("properties", "property tax", "owner"),
            ("parcels", "land tax", "owner"),
        ):
            for row in self.rows.get(collection, ()):
                owns.setdefault(row[key], set()).add(tax)
        occupied = {o["iin"]: o["status"] for o in self.rows.get("occupations", ())}
        debtors: list[tuple[str, Region | None]] = [
            (x.iin, x.region) for x in self.adults(18) if r.random() < 0.05
        ]
        debtors += [(e["bin"], None) for e in entities[BANKS:] if r.random() < 0.1]
        properties: dict[str, Row] = {}
        for row in self.rows.get("properties", ()):
            properties.setdefault(row["owner"], row)
        for taxpayer, region in debtors:
            if region is None:
                choices = ["corporate income tax", "VAT", "social tax"]
            else:
                choices = sorted(owns.get(taxpayer, ()))
                if occupied.get(taxpayer) == "SELF_EMPLOYED":
                    choices.append("individual income tax")
            if not choices:
                continue
            items: list[Row] = [
                {
                    "tax": tax,
                    "amount": r.randrange(3_000, 600_000, 50),
                    "due_date": iso(TODAY - r.randint(20, 900)),
                }
                for tax in r.sample(choices, r.randint(1, len(choices)))
            ]
            total = sum(i["amount"] for i in items)
            self.add("tax_debts", {"taxpayer": taxpayer, "total": total, "items": items})
            home = properties.get(taxpayer)
            if home is not None and region is not None and total > 200_000 and r.random() < 0.4:
                due = min(date.fromisoformat(i["due_date"]).toordinal() for i in items)
                self.add(
                    "encumbrances",
                    {
                        "encumbrance_number": self._numbered("EN", AS_OF.year),
                        "cadastral_number": home["cadastral_number"],
                        "kind": "ARREST",
                        "holder": f"State Revenue Department of {region.city}",
                        "holder_bin": "",
                        "registered_on": iso(r.randint(due, TODAY - 1)),
                    },
                )

    def welfare(self) -> None:
        r = self.r
        for life in self.lives:
            if not life.alive():
                continue
            age = life.age()
            if life.sex == "F" and life.children:
                self.mother_benefits(life)
            if age >= (63 if life.sex == "M" else 61):
                start = life.born + years(63 if life.sex == "M" else 61)
                self.benefit(life.iin, "BASIC_PENSION", BASIC_PENSION, start, "ACTIVE")
            if not life.citizen:
                continue
            disability = ""
            if r.random() < 0.02:
                disability = r.choice(("I", "II", "III", "III"))
                start = r.randint(min(life.born + 30, TODAY - 1), TODAY - 1)
                self.benefit(life.iin, "DISABILITY", DISABILITY[disability], start, "ACTIVE")
            attached = max(life.born + r.randint(3, 30), TODAY - r.randint(30, years(12)))
            self.add(
                "health",
                {
                    "iin": life.iin,
                    "clinic": f"{life.region.city} city polyclinic No. {r.randint(1, 12)}",
                    "attached_on": iso(min(attached, TODAY)),
                    "disability_group": disability,
                },
            )
            if age < 6 and r.random() < 0.8:
                queued = min(life.born + r.randint(7, 180), TODAY)
                row: Row = {
                    "child_iin": life.iin,
                    "city": life.region.city,
                    "queued_on": iso(queued),
                    "status": "WAITING",
                    "position": 0,
                }
                if age >= 3 and r.random() < 0.6:
                    number = r.randint(1, 150)
                    row |= {"status": "ENROLLED", "kindergarten": f"Kindergarten No. {number}"}
                self.add("kindergarten", row)

    def mother_benefits(self, mother: Life) -> None:
        under18 = [c for c in mother.children if c.alive() and c.age() < 18]
        for order, child in enumerate(mother.children, 1):
            if TODAY - child.born < years(3):
                mrp = MRP.get(date.fromordinal(child.born).year, MRP[AS_OF.year])
                amount = (BIRTH_BENEFIT_MRP if order <= 3 else 63) * mrp
                paid = min(child.born + self.r.randint(7, 40), TODAY)
                self.benefit(mother.iin, "BIRTH", amount, paid, "PAID", child=child.iin)
                until = child.born + years(1.5)
                status = "ACTIVE" if until >= TODAY else "ENDED"
                self.benefit(mother.iin, "CHILD_CARE", CHILD_CARE, paid, status, child, until=until)
        if len(under18) >= 4:
            start = under18[3].born + 30
            self.benefit(mother.iin, "LARGE_FAMILY", LARGE_FAMILY, start, "ACTIVE")

    def benefit(
        self,
        iin: str,
        kind: str,
        amount: int,
        assigned: int,
        status: str,
        child: Life | str | None = None,
        until: int | None = None,
    ) -> None:
        assigned = min(assigned, TODAY)
        row: Row = {
            "benefit_number": self._numbered("BN", date.fromordinal(assigned).year),
            "iin": iin,
            "kind": kind,
            "amount": amount,
            "assigned_on": iso(assigned),
            "status": status,
        }
        if child is not None:
            row["child_iin"] = child if isinstance(child, str) else child.iin
        if until is not None:
            row["until"] = iso(until)
        self.add("benefits", row)

    def contacts(self) -> None:
        r = self.r
        for life in self.lives:
            if not life.alive() or life.age() < 14:
                continue
            if r.random() < (0.85 if life.citizen else 0.6):
                operator, code = r.choice(OPERATOR_CODES)
                phone = self._unique(lambda c=code: f"+7{c}{r.randrange(10**7):07d}")
                since = max(life.born + years(14), TODAY - r.randint(30, years(15)))
                row = {"iin": life.iin, "phone": phone, "operator": operator}
                row |= {"registered_on": iso(since), "status": "ACTIVE"}
                self.add("phones", row)
            if life.age() >= 18 and life.citizen and r.random() < 0.55:
                issued = TODAY - r.randint(1, 700)
                expired = issued + 365 < TODAY
                status = "EXPIRED" if expired else ("REVOKED" if r.random() < 0.03 else "VALID")
                self.add(
                    "certificates",
                    {
                        "serial": self._unique(lambda: f"{r.getrandbits(160):040X}"),
                        "iin": life.iin,
                        "kind": r.choice(("SIGN", "AUTH")),
                        "valid_from": iso(issued),
                        "valid_to": iso(issued + 365),
                        "status": status,
                    },
                )

    def registers(self) -> None:
        r = self.r
        for life in self.adults(18):
            if not life.citizen:
                continue
            male = life.sex == "M"
            city = life.region.city
            if r.random() < (0.012 if male else 0.004):
                self.add(
                    "narcology",
                    {
                        "iin": life.iin,
                        "registered_on": iso(
                            r.randint(min(life.born + years(18), TODAY - 1), TODAY - 1)
                        ),
                        "dispensary": f"{city} regional narcology centre",
                    },
                )
            if r.random() < 0.008:
                self.add(
                    "psychiatry",
                    {
                        "iin": life.iin,
                        "registered_on": iso(
                            r.randint(min(life.born + years(18), TODAY - 1), TODAY - 1)
                        ),
                        "dispensary": f"{city} regional mental health centre",
                    },
                )
            if r.random() < 0.01:  # fines without a vehicle
                self.fines(life, "", TODAY - years(3))
            if r.random() < (0.03 if male else 0.006):
                article, what, sentence = r.choice(CONVICTIONS)
                convicted = r.randint(min(life.born + years(18), TODAY - 1), TODAY - 1)
                court = f"{city} city court No. {r.randint(1, 4)}"
                conviction = {"article": article, "description": what}
                conviction |= {"convicted_on": iso(convicted), "court": court}
                conviction["sentence"] = sentence
                self.add("criminal_records", {"iin": life.iin, "convictions": [conviction]})

    def run(self) -> dict[str, list[Row]]:
        while self.room():
            self.household()
        entities = self.entities()
        self.occupations(entities)
        self.drivers()
        self.property(entities)
        self.taxes(entities)
        self.welfare()
        self.contacts()
        self.registers()
        self.rows["persons"] = [life.person for life in self.lives]
        return self.rows


def _with_check(first11: str) -> str:
    """The number with its check digit, or "" (taken, so never used) when it has none."""
    check = check_digit(first11)
    return "" if check is None else f"{first11}{check}"


def generate(size: int, seed: int, reserved: Iterable[str] = ()) -> dict[str, list[Row]]:
    """``size`` people and everything the registries hold about them, as lists of rows by
    collection (see ``regbus.mocks.population``). ``reserved``: identifiers never to issue."""
    if size < 0:
        raise ValueError(f"a population cannot have {size} people")
    return Generator(size, seed, reserved).run()


def vaccinations(birth_date: str) -> list[Row]:
    """The vaccinations of the national calendar due by ``AS_OF`` for someone under 18."""
    born = date.fromisoformat(birth_date).toordinal()
    if TODAY - born >= years(18):
        return []
    return [{"vaccine": v, "date": iso(born + d)} for v, d in VACCINES if born + d <= TODAY]


def queue_positions(rows: Iterable[Row]) -> None:
    """Number the children waiting for a kindergarten place, per city, in order of queueing."""
    waiting: dict[str, list[Row]] = {}
    for row in rows:
        if row["status"] == "WAITING":
            waiting.setdefault(row["city"], []).append(row)
    for queue in waiting.values():
        queue.sort(key=lambda row: (row["queued_on"], row["child_iin"]))
        for position, row in enumerate(queue, 1):
            row["position"] = position
