"""Demo data: schools in every municipality of the region, about a hundred providers, several
hundred offers with sessions for the rest of the school year, and one account per role.

Everything comes from random.Random(2026), so the data is the same on every run; only the dates of
the sessions follow the day of seeding (from tomorrow to the summer holiday), and what the README
promises of the demo holds on any day of the year (tests/test_demo.py seeds it on many).
"""

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property

import holidays
from sqlalchemy import insert
from sqlmodel import Session, col, select

from app.accounts import secrets
from app.accounts.models import (
    Organisation,
    OrganisationKind,
    ProviderKind,
    Role,
    SchoolLevel,
    User,
)
from app.calendar.bounds import school_year_of
from app.catalogue.holidays import (
    add_standard_holidays,
    standard_school_holidays,
    summer_holiday_starts,
)
from app.catalogue.models import (
    GRADE_MAX,
    GRADE_MIN,
    Offer,
    OfferFormat,
    OfferSession,
    OfferStatus,
    OfferSubject,
    OfferTheme,
    OfferType,
    Subject,
    Theme,
)
from app.geography import MUNICIPALITIES
from app.i18n import TIMEZONE

SEED = 2026
PASSWORD = "stem-demo-2026"
ACCOUNTS = {
    "teacher": "laerer@demo.stem.dk",
    "provider": "udbyder@demo.stem.dk",
    "mentor": "mentor@demo.stem.dk",
    "coordinator": "koordinator@demo.stem.dk",
    "admin": "admin@demo.stem.dk",
}


def welcome(url: str, *, mail_to_log: bool = True) -> str:
    """What `scripts/serve` prints last, once the portal answers: where to open it and how to log in."""
    width = max(len(email) for email in ACCOUNTS.values())
    lines = [f"Open {url} — log in as one of these (password {PASSWORD}):"]
    lines += [f"  {email:<{width}}  {role}" for role, email in ACCOUNTS.items()]
    if mail_to_log:
        lines.append(f"E-mail is not sent without SMTP_HOST: log in as admin and read it on {url}/dev/mail")
    lines.append("Stop with Ctrl+C.")
    return "\n".join(lines)

# The organisations the demo accounts, the README and the browser tests rely on.
SCHOOLS = [
    ("Frederiksbjerg Skole", "Aarhus", SchoolLevel.primary),
    ("Holstebro Gymnasium og HF", "Holstebro", SchoolLevel.upper_secondary),
    ("Lindbjergskolen", "Herning", SchoolLevel.primary),
    ("Viborg Katedralskole", "Viborg", SchoolLevel.upper_secondary),
    ("Bakkeskolen", "Horsens", SchoolLevel.primary),
    ("Randers HTX", "Randers", SchoolLevel.upper_secondary),
]
PROVIDERS = [
    ("Grundfos Lab", "Favrskov", ProviderKind.company),
    ("Experimentarium Vest", "Herning", ProviderKind.science_centre),
    ("Aarhus Universitet, Institut for Fysik", "Aarhus", ProviderKind.university),
    ("VIA University College", "Horsens", ProviderKind.college),
    ("Vestas Wind Academy", "Ringkøbing-Skjern", ProviderKind.company),
]

# --- places --------------------------------------------------------------------------------------

# Towns of each municipality with their postal district; the first is the main town.
TOWNS: dict[str, list[tuple[str, str]]] = {
    "Aarhus": [
        ("Aarhus", "8000 Aarhus C"),
        ("Hasle", "8210 Aarhus V"),
        ("Tilst", "8381 Tilst"),
        ("Skåde", "8270 Højbjerg"),
        ("Viby", "8260 Viby J"),
        ("Højbjerg", "8270 Højbjerg"),
        ("Lystrup", "8520 Lystrup"),
        ("Risskov", "8240 Risskov"),
        ("Tranbjerg", "8310 Tranbjerg J"),
        ("Malling", "8340 Malling"),
        ("Beder", "8330 Beder"),
        ("Sabro", "8471 Sabro"),
        ("Harlev", "8462 Harlev J"),
        ("Brabrand", "8220 Brabrand"),
        ("Åbyhøj", "8230 Åbyhøj"),
        ("Mårslet", "8320 Mårslet"),
        ("Solbjerg", "8355 Solbjerg"),
        ("Skødstrup", "8541 Skødstrup"),
        ("Hjortshøj", "8530 Hjortshøj"),
        ("Trige", "8380 Trige"),
        ("Egå", "8250 Egå"),
    ],
    "Favrskov": [
        ("Hinnerup", "8382 Hinnerup"),
        ("Hadsten", "8370 Hadsten"),
        ("Hammel", "8450 Hammel"),
        ("Ulstrup", "8860 Ulstrup"),
        ("Søften", "8382 Hinnerup"),
        ("Thorsø", "8881 Thorsø"),
        ("Voldum", "8370 Hadsten"),
        ("Lading", "8471 Sabro"),
    ],
    "Hedensted": [
        ("Hedensted", "8722 Hedensted"),
        ("Juelsminde", "7130 Juelsminde"),
        ("Tørring", "7160 Tørring"),
        ("Løsning", "8723 Løsning"),
        ("Uldum", "7171 Uldum"),
        ("Daugård", "8721 Daugård"),
        ("Stouby", "7140 Stouby"),
        ("Hornsyld", "8783 Hornsyld"),
    ],
    "Herning": [
        ("Herning", "7400 Herning"),
        ("Sunds", "7451 Sunds"),
        ("Aulum", "7490 Aulum"),
        ("Kibæk", "6933 Kibæk"),
        ("Lind", "7400 Herning"),
        ("Gjellerup", "7400 Herning"),
        ("Vildbjerg", "7480 Vildbjerg"),
        ("Hammerum", "7400 Herning"),
        ("Sørvad", "7550 Sørvad"),
        ("Tjørring", "7400 Herning"),
    ],
    "Holstebro": [
        ("Holstebro", "7500 Holstebro"),
        ("Vinderup", "7830 Vinderup"),
        ("Ulfborg", "6990 Ulfborg"),
        ("Tvis", "7500 Holstebro"),
        ("Sevel", "7830 Vinderup"),
        ("Mejrup", "7500 Holstebro"),
        ("Idom", "7500 Holstebro"),
    ],
    "Horsens": [
        ("Horsens", "8700 Horsens"),
        ("Brædstrup", "8740 Brædstrup"),
        ("Gedved", "8751 Gedved"),
        ("Hatting", "8700 Horsens"),
        ("Østbirk", "8752 Østbirk"),
        ("Stensballe", "8700 Horsens"),
        ("Hovedgård", "8732 Hovedgård"),
        ("Lund", "8700 Horsens"),
        ("Egebjerg", "8700 Horsens"),
    ],
    "Ikast-Brande": [
        ("Ikast", "7430 Ikast"),
        ("Brande", "7330 Brande"),
        ("Bording", "7441 Bording"),
        ("Engesvang", "7442 Engesvang"),
        ("Nørre Snede", "8766 Nørre Snede"),
        ("Ejstrupholm", "7361 Ejstrupholm"),
    ],
    "Lemvig": [
        ("Lemvig", "7620 Lemvig"),
        ("Harboøre", "7673 Harboøre"),
        ("Thyborøn", "7680 Thyborøn"),
        ("Bækmarksbro", "7660 Bækmarksbro"),
        ("Klinkby", "7620 Lemvig"),
        ("Ramme", "7620 Lemvig"),
    ],
    "Norddjurs": [
        ("Grenaa", "8500 Grenaa"),
        ("Auning", "8963 Auning"),
        ("Ørsted", "8950 Ørsted"),
        ("Allingåbro", "8961 Allingåbro"),
        ("Glesborg", "8585 Glesborg"),
        ("Vivild", "8961 Allingåbro"),
        ("Trustrup", "8570 Trustrup"),
    ],
    "Odder": [
        ("Odder", "8300 Odder"),
        ("Hou", "8300 Odder"),
        ("Saksild", "8300 Odder"),
        ("Hundslund", "8350 Hundslund"),
        ("Gylling", "8300 Odder"),
    ],
    "Randers": [
        ("Randers", "8900 Randers C"),
        ("Spentrup", "8981 Spentrup"),
        ("Assentoft", "8960 Randers SØ"),
        ("Langå", "8870 Langå"),
        ("Havndal", "8970 Havndal"),
        ("Dronningborg", "8930 Randers NØ"),
        ("Kristrup", "8960 Randers SØ"),
        ("Vorup", "8940 Randers SV"),
        ("Harridslev", "8981 Spentrup"),
        ("Øster Tørslev", "8983 Gjerlev J"),
    ],
    "Ringkøbing-Skjern": [
        ("Ringkøbing", "6950 Ringkøbing"),
        ("Skjern", "6900 Skjern"),
        ("Tarm", "6880 Tarm"),
        ("Hvide Sande", "6960 Hvide Sande"),
        ("Videbæk", "6920 Videbæk"),
        ("Spjald", "6971 Spjald"),
        ("No", "6950 Ringkøbing"),
        ("Lem", "6940 Lem St"),
    ],
    "Samsø": [
        ("Tranebjerg", "8305 Samsø"),
        ("Nordby", "8305 Samsø"),
        ("Ballen", "8305 Samsø"),
        ("Onsbjerg", "8305 Samsø"),
    ],
    "Silkeborg": [
        ("Silkeborg", "8600 Silkeborg"),
        ("Kjellerup", "8620 Kjellerup"),
        ("Them", "8653 Them"),
        ("Gjern", "8883 Gjern"),
        ("Sejs", "8600 Silkeborg"),
        ("Virklund", "8600 Silkeborg"),
        ("Lemming", "8632 Lemming"),
        ("Funder", "8600 Silkeborg"),
        ("Sorring", "8641 Sorring"),
        ("Resenbro", "8600 Silkeborg"),
    ],
    "Skanderborg": [
        ("Skanderborg", "8660 Skanderborg"),
        ("Ry", "8680 Ry"),
        ("Galten", "8464 Galten"),
        ("Hørning", "8362 Hørning"),
        ("Stilling", "8660 Skanderborg"),
        ("Låsby", "8670 Låsby"),
        ("Skovby", "8464 Galten"),
        ("Gammel Rye", "8680 Ry"),
    ],
    "Skive": [
        ("Skive", "7800 Skive"),
        ("Balling", "7860 Spøttrup"),
        ("Durup", "7870 Roslev"),
        ("Roslev", "7870 Roslev"),
        ("Jebjerg", "7870 Roslev"),
        ("Glyngøre", "7870 Roslev"),
        ("Breum", "7870 Roslev"),
        ("Rødding", "7860 Spøttrup"),
    ],
    "Struer": [
        ("Struer", "7600 Struer"),
        ("Hjerm", "7560 Hjerm"),
        ("Hvidbjerg", "7790 Thyholm"),
        ("Humlum", "7600 Struer"),
        ("Bremdal", "7600 Struer"),
        ("Asp", "7600 Struer"),
    ],
    "Syddjurs": [
        ("Ebeltoft", "8400 Ebeltoft"),
        ("Rønde", "8410 Rønde"),
        ("Hornslet", "8543 Hornslet"),
        ("Kolind", "8560 Kolind"),
        ("Mørke", "8544 Mørke"),
        ("Ryomgård", "8550 Ryomgård"),
        ("Tirstrup", "8400 Ebeltoft"),
        ("Knebel", "8420 Knebel"),
    ],
    "Viborg": [
        ("Viborg", "8800 Viborg"),
        ("Bjerringbro", "8850 Bjerringbro"),
        ("Karup", "7470 Karup J"),
        ("Stoholm", "7850 Stoholm Jyll"),
        ("Møldrup", "9632 Møldrup"),
        ("Skals", "8832 Skals"),
        ("Rødkærsbro", "8840 Rødkærsbro"),
        ("Ørum", "8830 Tjele"),
        ("Overlund", "8800 Viborg"),
    ],
}

# How many grundskoler to make besides the fixed ones: (fewest, most).
PRIMARY_COUNTS = {
    "Aarhus": (12, 14),
    "Herning": (5, 7),
    "Randers": (5, 7),
    "Silkeborg": (5, 7),
    "Horsens": (5, 7),
    "Viborg": (5, 7),
    "Holstebro": (4, 6),
    "Skanderborg": (4, 6),
    "Favrskov": (4, 6),
    "Hedensted": (4, 6),
    "Ikast-Brande": (3, 5),
    "Skive": (4, 6),
    "Syddjurs": (4, 6),
    "Norddjurs": (3, 5),
    "Ringkøbing-Skjern": (4, 6),
    "Lemvig": (3, 4),
    "Odder": (3, 4),
    "Struer": (3, 4),
    "Samsø": (2, 3),
}
# Grundskoler that are not named after their town, one of each at most.
SCHOOL_NAMES = [
    "Søndervangskolen",
    "Vestervangskolen",
    "Nørrevangsskolen",
    "Østre Skole",
    "Midtbyens Skole",
    "Rosenvængets Skole",
    "Engdalskolen",
    "Parkskolen",
    "Højvangskolen",
    "Kirkebakkeskolen",
    "Skovvangskolen",
    "Tjørneskolen",
    "Sønderskovskolen",
    "Ådalskolen",
    "Bavnehøjskolen",
    "Fjordskolen",
    "Strandskolen",
    "Kildebakkeskolen",
    "Hedeskolen",
    "Møllevangskolen",
    "Åskolen",
    "Nordbyskolen",
    "Langagerskolen",
    "Rådhusskolen",
    "Elmeskolen",
    "Lyngbakkeskolen",
]
UPPER_SECONDARY = {
    "Aarhus": [
        "Aarhus Katedralskole",
        "Aarhus Statsgymnasium",
        "Aarhus HF & VUC",
        "Marselisborg Gymnasium",
        "Risskov Gymnasium",
        "Egå Gymnasium",
        "Aarhus HTX",
    ],
    "Favrskov": ["Favrskov Gymnasium", "Hadsten HF & VUC"],
    "Hedensted": ["Hedensted Gymnasium", "Juelsminde HF"],
    "Herning": ["Herning Gymnasium", "Herning HF & VUC", "Herning Handelsgymnasium"],
    "Holstebro": ["Holstebro HTX", "Vinderup HF"],
    "Horsens": ["Horsens Statsskole", "Horsens HF & VUC", "Horsens HTX"],
    "Ikast-Brande": ["Ikast-Brande Gymnasium", "Brande HF"],
    "Lemvig": ["Lemvig Gymnasium"],
    "Norddjurs": ["Grenaa Gymnasium", "Grenaa HTX"],
    "Odder": ["Odder Gymnasium"],
    "Randers": ["Randers Statsskole", "Randers HF & VUC", "Paderup Gymnasium"],
    "Ringkøbing-Skjern": ["Ringkøbing Gymnasium", "Skjern HF", "Tarm Handelsgymnasium"],
    "Samsø": ["Samsø HF & VUC"],
    "Silkeborg": [
        "Silkeborg Gymnasium",
        "Silkeborg HF & VUC",
        "Silkeborg Handelsgymnasium",
        "Kjellerup HTX",
    ],
    "Skanderborg": ["Skanderborg Gymnasium", "Ry HF"],
    "Skive": ["Skive Gymnasium", "Skive HF & VUC", "Skive Handelsgymnasium"],
    "Struer": ["Struer Statsgymnasium"],
    "Syddjurs": ["Rønde Gymnasium", "Ebeltoft HF"],
    "Viborg": ["Bjerringbro Gymnasium", "Karup HTX"],
}

SCHOOL_STREETS = [
    "Skolevej",
    "Skolegade",
    "Parkvej",
    "Kirkevej",
    "Bakkevej",
    "Engvej",
    "Stadion Allé",
]
PROVIDER_STREETS = [
    "Industrivej",
    "Erhvervsvej",
    "Fabriksvej",
    "Teknologiparken",
    "Innovationsvej",
    "Havnegade",
    "Stationsvej",
    "Vestergade",
    "Nørregade",
    "Mølledamsvej",
    "Lundvej",
    "Energivej",
]

# --- providers -----------------------------------------------------------------------------------

# Word for a company's trade, by its main theme.
TRADES = {
    Theme.food: [
        "Fødevareteknik",
        "Mejeri",
        "Protein",
        "Akvakultur",
        "Bryghus",
        "Kornlab",
        "Fiskeforædling",
        "Frugtplantage",
        "Grønt",
        "Pølsemageri",
    ],
    Theme.climate_energy: [
        "Vindkraft",
        "Solenergi",
        "Biogas",
        "Energiteknik",
        "Fjernvarme",
        "Brint",
        "Varmepumper",
        "Energilager",
        "Vandteknik",
    ],
    Theme.industry: [
        "Robotteknik",
        "Maskinfabrik",
        "Automation",
        "Stålværk",
        "Plastindustri",
        "Metalteknik",
        "Pumpeteknik",
        "Præcisionsmekanik",
        "Værktøjsfabrik",
    ],
    Theme.ict: [
        "Software",
        "Datateknik",
        "IT",
        "Droneteknik",
        "Sensorteknik",
        "Cybersikkerhed",
        "Spilstudie",
        "Elektronik",
    ],
    Theme.health: [
        "Medicoteknik",
        "Sundhedsteknologi",
        "Biotek",
        "Diagnostik",
        "Rehabteknik",
        "Hjælpemidler",
        "Laboratorier",
        "Velfærdsteknologi",
    ],
}
# Regional first words of company names, and where they fit.
REGIONS = {
    "Vestjysk": ["Herning", "Holstebro", "Ringkøbing-Skjern", "Lemvig", "Struer", "Ikast-Brande"],
    "Midtjysk": ["Silkeborg", "Viborg", "Ikast-Brande", "Herning", "Favrskov"],
    "Østjysk": ["Aarhus", "Horsens", "Skanderborg", "Odder", "Hedensted", "Favrskov", "Randers"],
    "Djurs": ["Norddjurs", "Syddjurs"],
    "Limfjords": ["Skive", "Struer", "Lemvig"],
    "Gudenå": ["Randers", "Silkeborg", "Favrskov", "Skanderborg"],
    "Kattegat": ["Norddjurs", "Syddjurs", "Samsø", "Odder", "Hedensted"],
    "Mols": ["Syddjurs"],
    "Salling": ["Skive"],
    "Hede": ["Herning", "Ikast-Brande"],
    "Fjord": ["Horsens", "Randers", "Hedensted"],
    "Samsø": ["Samsø"],
    "Vesterhavs": ["Lemvig", "Ringkøbing-Skjern"],
    "Søhøjlandets": ["Silkeborg", "Skanderborg"],
}
# Weights for spreading companies over the region.
MUNICIPALITY_WEIGHTS = {
    "Aarhus": 6,
    "Herning": 3,
    "Randers": 3,
    "Silkeborg": 3,
    "Horsens": 3,
    "Viborg": 3,
    "Holstebro": 2,
    "Skanderborg": 2,
    "Favrskov": 2,
    "Hedensted": 2,
    "Ikast-Brande": 2,
    "Skive": 2,
    "Syddjurs": 2,
    "Norddjurs": 2,
    "Ringkøbing-Skjern": 2,
    "Lemvig": 1,
    "Odder": 1,
    "Struer": 1,
    "Samsø": 1,
}
# (name, municipality, kind, themes) of providers that are not made from the patterns above.
NAMED_PROVIDERS = [
    ("Vestjysk Robotteknik ApS", "Holstebro", ProviderKind.company, [Theme.industry, Theme.ict]),
    ("Djurs Vindkraft", "Norddjurs", ProviderKind.company, [Theme.climate_energy]),
    ("Experimentarium Midt", "Silkeborg", ProviderKind.science_centre, list(Theme)),
    ("Naturcenter Djursland", "Syddjurs", ProviderKind.science_centre, [Theme.food, Theme.health]),
    (
        "Limfjordens Videnscenter",
        "Skive",
        ProviderKind.science_centre,
        [Theme.food, Theme.climate_energy],
    ),
    ("Energicenter Samsø", "Samsø", ProviderKind.science_centre, [Theme.climate_energy]),
    ("Teknikhuset Randers", "Randers", ProviderKind.science_centre, [Theme.industry, Theme.ict]),
    ("Opdagelsernes Hus", "Horsens", ProviderKind.science_centre, list(Theme)),
    (
        "Vesterhavets Naturcenter",
        "Lemvig",
        ProviderKind.science_centre,
        [Theme.climate_energy, Theme.food],
    ),
    (
        "Science Lab Skanderborg",
        "Skanderborg",
        ProviderKind.science_centre,
        [Theme.ict, Theme.health],
    ),
    (
        "Hedens Naturlaboratorium",
        "Ikast-Brande",
        ProviderKind.science_centre,
        [Theme.climate_energy, Theme.food],
    ),
    (
        "Fjordlab Hedensted",
        "Hedensted",
        ProviderKind.science_centre,
        [Theme.food, Theme.climate_energy],
    ),
    ("Teknologihuset Struer", "Struer", ProviderKind.science_centre, [Theme.ict, Theme.industry]),
    (
        "Aarhus Universitet, Institut for Kemi",
        "Aarhus",
        ProviderKind.university,
        [Theme.health, Theme.industry],
    ),
    (
        "Aarhus Universitet, Institut for Biologi",
        "Aarhus",
        ProviderKind.university,
        [Theme.health, Theme.food],
    ),
    ("Aarhus Universitet, Datalogisk Institut", "Aarhus", ProviderKind.university, [Theme.ict]),
    (
        "Aarhus Universitet, Institut for Fødevarer",
        "Aarhus",
        ProviderKind.university,
        [Theme.food, Theme.health],
    ),
    (
        "Aarhus Universitet, Institut for Ingeniørvidenskab",
        "Aarhus",
        ProviderKind.university,
        [Theme.industry, Theme.climate_energy],
    ),
    (
        "Aarhus Universitet, Institut for Agroøkologi",
        "Viborg",
        ProviderKind.university,
        [Theme.food, Theme.climate_energy],
    ),
    (
        "Aarhus Universitet i Herning",
        "Herning",
        ProviderKind.university,
        [Theme.industry, Theme.ict],
    ),
    (
        "VIA University College, Campus Aarhus",
        "Aarhus",
        ProviderKind.college,
        [Theme.health, Theme.ict],
    ),
    (
        "VIA University College, Campus Holstebro",
        "Holstebro",
        ProviderKind.college,
        [Theme.health, Theme.industry],
    ),
    ("VIA University College, Campus Silkeborg", "Silkeborg", ProviderKind.college, [Theme.health]),
    (
        "VIA University College, Campus Randers",
        "Randers",
        ProviderKind.college,
        [Theme.health, Theme.food],
    ),
    (
        "VIA University College, Campus Herning",
        "Herning",
        ProviderKind.college,
        [Theme.industry, Theme.ict],
    ),
    ("Midtjysk Erhvervsakademi", "Ikast-Brande", ProviderKind.college, [Theme.ict, Theme.industry]),
    ("Erhvervsakademi Gudenå", "Randers", ProviderKind.college, [Theme.industry, Theme.food]),
    (
        "Djurslands Tekniske Skole",
        "Norddjurs",
        ProviderKind.college,
        [Theme.industry, Theme.climate_energy],
    ),
    (
        "Vestjysk Maskinmesterskole",
        "Ringkøbing-Skjern",
        ProviderKind.college,
        [Theme.climate_energy, Theme.industry],
    ),
    ("Limfjordens Tekniske Skole", "Skive", ProviderKind.college, [Theme.industry, Theme.food]),
]
EXISTING_THEMES = {
    "Grundfos Lab": [Theme.industry, Theme.climate_energy],
    "Experimentarium Vest": list(Theme),
    "Aarhus Universitet, Institut for Fysik": [Theme.climate_energy, Theme.ict, Theme.industry],
    "VIA University College": [Theme.health, Theme.industry],
    "Vestas Wind Academy": [Theme.climate_energy, Theme.industry],
}
GENERATED_COMPANIES = 66

# Which offers each kind of provider makes, and how often.
TYPE_WEIGHTS = {
    ProviderKind.company: {
        OfferType.course: 3,
        OfferType.company_week: 2.5,
        OfferType.expert: 2.5,
        OfferType.innovation_game: 0.8,
        OfferType.girls_day: 1,
        OfferType.mentoring: 0.2,
    },
    ProviderKind.science_centre: {
        OfferType.course: 7,
        OfferType.girls_day: 1.5,
        OfferType.expert: 0.5,
        OfferType.innovation_game: 0.3,
    },
    ProviderKind.university: {
        OfferType.course: 3,
        OfferType.innovation_game: 1.5,
        OfferType.girls_day: 1.5,
        OfferType.mentoring: 2,
        OfferType.expert: 1.5,
    },
    ProviderKind.college: {
        OfferType.mentoring: 3,
        OfferType.course: 3,
        OfferType.girls_day: 1,
        OfferType.expert: 1,
        OfferType.innovation_game: 0.5,
    },
}
OFFERS_PER_PROVIDER = {
    ProviderKind.company: (2, 5),
    ProviderKind.science_centre: (5, 9),
    ProviderKind.university: (4, 8),
    ProviderKind.college: (3, 6),
}
# The demo provider account's organisation shows one offer of every kind, and a draft.
GRUNDFOS_OFFERS = [
    OfferType.company_week,
    OfferType.innovation_game,
    OfferType.girls_day,
    OfferType.expert,
    OfferType.mentoring,
    OfferType.course,
    OfferType.course,
    OfferType.course,
]

# --- offer texts ---------------------------------------------------------------------------------

THEME_NAMES = {
    Theme.food: "Fødevarer",
    Theme.climate_energy: "Klima og energi",
    Theme.industry: "Industri og produktion",
    Theme.ict: "IT og digitalisering",
    Theme.health: "Sundhed",
}
SUBJECT_NAMES = {
    Subject.maths: "Matematik",
    Subject.physics_chemistry: "Fysik/kemi",
    Subject.biology: "Biologi",
    Subject.nature_technology: "Natur/teknologi",
    Subject.technology_understanding: "Teknologiforståelse",
    Subject.informatics: "Informatik",
}
THEME_SUBJECTS = {
    Theme.food: [
        Subject.biology,
        Subject.physics_chemistry,
        Subject.nature_technology,
        Subject.maths,
    ],
    Theme.climate_energy: [
        Subject.physics_chemistry,
        Subject.maths,
        Subject.nature_technology,
        Subject.technology_understanding,
    ],
    Theme.industry: [
        Subject.maths,
        Subject.physics_chemistry,
        Subject.technology_understanding,
        Subject.informatics,
    ],
    Theme.ict: [Subject.informatics, Subject.technology_understanding, Subject.maths],
    Theme.health: [
        Subject.biology,
        Subject.physics_chemistry,
        Subject.maths,
        Subject.technology_understanding,
    ],
}

COMPANY_WEEK_TOPICS = {
    Theme.food: [
        "Fremtidens fødevarer",
        "Mindre madspild i produktionen",
        "Plantebaseret protein",
        "Bæredygtig emballage",
        "Fisk fra land",
        "Holdbarhed uden tilsætningsstoffer",
        "Sporbarhed fra jord til bord",
    ],
    Theme.climate_energy: [
        "Grøn omstilling i praksis",
        "Vindmøllen bliver bedre",
        "Energi fra biogas",
        "Overskudsvarme til byen",
        "Brint fra grøn strøm",
        "Et CO₂-regnskab for virksomheden",
        "Solceller på fabrikstaget",
    ],
    Theme.industry: [
        "Robotter på fabriksgulvet",
        "Fra idé til prototype",
        "Smart produktion",
        "Pumper der sparer energi",
        "Genbrug af metal",
        "Mindre spild på produktionslinjen",
        "Et nyt produkt til eksport",
    ],
    Theme.ict: [
        "En app til en rigtig kunde",
        "Data der styrer driften",
        "Sikker software",
        "Droner i landbruget",
        "Kunstig intelligens i produktionen",
        "En chatbot til kundeservice",
        "Sensorer i lageret",
    ],
    Theme.health: [
        "Teknologi til ældreplejen",
        "Sensorer der måler sundhed",
        "Hjælpemidler til hverdagen",
        "Rent vand og sund krop",
        "Fremtidens hospitalsudstyr",
        "Et bedre laboratorieflow",
        "Genoptræning med teknologi",
    ],
}
CHALLENGES = {
    Theme.food: [
        "madspild",
        "fremtidens protein",
        "sund mad i kantinen",
        "emballage og affald",
        "lokale råvarer",
        "vand i landbruget",
    ],
    Theme.climate_energy: [
        "fremtidens energi",
        "grøn transport",
        "klimatilpasning og skybrud",
        "CO₂-fri opvarmning",
        "energi på øerne",
        "biodiversitet og vindmøller",
    ],
    Theme.industry: [
        "cirkulær økonomi",
        "plast i kredsløb",
        "fremtidens fabrik",
        "grønne arbejdspladser",
        "tekstiler og genbrug",
        "byggeri uden affald",
    ],
    Theme.ict: [
        "digital tryghed",
        "kunstig intelligens og ansvar",
        "data og privatliv",
        "smarte byer",
        "skærmtid og trivsel",
        "falske nyheder",
    ],
    Theme.health: [
        "sundhed i hverdagen",
        "ensomhed og teknologi",
        "bevægelse for unge",
        "rent drikkevand",
        "søvn og skoledag",
        "antibiotikaresistens",
    ],
}
GIRLS_DAY_TOPICS = {
    Theme.food: ["Kemi i køkkenet", "Fra mælk til is", "Bakterier, brød og bobler", "Smagens kemi"],
    Theme.climate_energy: [
        "Kvinder i vindenergi",
        "Byg en solcellebil",
        "Strøm fra sol og vind",
        "Klimaforskere i felten",
    ],
    Theme.industry: [
        "Byg din egen robot",
        "Design og 3D-print",
        "Ingeniør for en dag",
        "Fremtidens fabrik",
    ],
    Theme.ict: [
        "Kod en lysinstallation",
        "Design en app",
        "Kod din egen spilcontroller",
        "Hackerpiger",
    ],
    Theme.health: [
        "En dag i laboratoriet",
        "Sensorer og sundhed",
        "DNA-detektiver",
        "Medicin i reagensglas",
    ],
}
EXPERTS = {
    Theme.food: [
        "Mød en fødevareingeniør",
        "Mejeriteknikeren kommer på besøg",
        "Fra jord til bord med en agronom",
        "Fiskebiolog i klassen",
        "Procesoperatør fortæller",
        "Levnedsmiddelkemiker på besøg",
    ],
    Theme.climate_energy: [
        "Vindmølleingeniør i klassen",
        "Energirådgiver på besøg",
        "Klimaforsker fortæller",
        "Elektriker i den grønne omstilling",
        "Energiingeniør på besøg",
        "Servicetekniker fra havet",
    ],
    Theme.industry: [
        "Robottekniker i klassen",
        "Maskiningeniør fortæller",
        "Produktionsleder på besøg",
        "Smed og svejser fortæller",
        "Designingeniør i klassen",
        "Automatiktekniker på besøg",
    ],
    Theme.ict: [
        "Softwareudvikler på besøg",
        "Dataanalytiker i klassen",
        "Droneekspert fortæller",
        "IT-sikkerhedsekspert i klassen",
        "Spiludvikler på besøg",
        "Elektronikingeniør fortæller",
    ],
    Theme.health: [
        "Bioanalytiker på besøg",
        "Sundhedsteknolog i klassen",
        "Laborant fortæller om medicin",
        "Ergoterapeut og hjælpemidler",
        "Biokemiker på besøg",
        "Klinisk ingeniør fortæller",
    ],
}
MENTORING_TOPICS = {
    Theme.food: ["Fra folkeskole til fødevareingeniør", "Sådan er det at læse biologi"],
    Theme.climate_energy: ["Hvad laver en maskinmester?", "Unge i den grønne omstilling"],
    Theme.industry: ["Lærlinge fortæller om industrien", "Studerende fortæller om ingeniørlivet"],
    Theme.ict: ["Mød en datalogistuderende", "Piger i teknologi"],
    Theme.health: ["Fra folkeskole til laboratorium", "Vejen til en sundhedsteknisk uddannelse"],
}
MENTORING_GENERAL = [
    "Vejen til en STEM-uddannelse",
    "Gymnasiet med naturvidenskab",
    "Erhvervsuddannelser med teknik",
    "Valget efter 9. klasse",
    "Hvad kan man blive med matematik?",
]
COURSE_TOPICS = {
    Theme.food: [
        "Kemi i køkkenet",
        "Mikroorganismer i mad",
        "Smag, sanser og statistik",
        "Fra korn til brød",
        "Fødevarekontrol i laboratoriet",
        "Akvaponi i klasselokalet",
        "Mælkesyrebakterier",
        "Sukker og energi",
    ],
    Theme.climate_energy: [
        "Byg en solcellebil",
        "Vindmøller i vindtunnel",
        "Energi i hjemmet",
        "Klimamålinger ved fjorden",
        "Batterier og strøm",
        "Biogas i flasken",
        "Varmepumpens fysik",
        "Havniveau og diger",
    ],
    Theme.industry: [
        "Matematik i produktionen",
        "Robotprogrammering",
        "3D-print og design",
        "Mekanik med LEGO",
        "Pumper og tryk",
        "Materialer under pres",
        "Automatisering med micro:bit",
        "Målinger og tolerancer",
    ],
    Theme.ict: [
        "Programmering med micro:bit",
        "Kunstig intelligens i praksis",
        "Kryptering og koder",
        "Byg en vejrstation",
        "Data fra sensorer",
        "Spiludvikling med Scratch",
        "Netværk og internettet",
        "Python for begyndere",
    ],
    Theme.health: [
        "Kroppen i tal",
        "Puls, kondition og data",
        "DNA-analyse",
        "Bakterier og hygiejne",
        "Medicinens vej",
        "Protesens mekanik",
        "Lyd, øre og høretab",
        "Øjet og lyset",
    ],
}
SHORT_COURSE_FORMS = ["{}", "{}", "Workshop: {}", "Temadag: {}", "Laboratoriedag: {}"]
LONG_COURSE_FORMS = ["Engineering i skolen: {}", "Forløb: {}", "Talentforløb: {}"]

GRADES = {
    OfferType.company_week: [(7, 9), (8, 9), (8, 10), (7, 10), (11, 12), (11, 13), (12, 13)],
    OfferType.innovation_game: [(11, 13), (11, 12), (12, 13), (11, 13)],
    OfferType.girls_day: [(6, 9), (7, 10), (8, 10), (11, 13), (7, 13), (5, 7)],
    OfferType.expert: [(4, 6), (7, 9), (7, 10), (8, 10), (10, 13), (11, 13), (5, 10)],
    OfferType.mentoring: [(7, 9), (8, 9), (8, 10), (9, 10), (9, 11)],
    OfferType.course: [
        (0, 3),
        (1, 3),
        (3, 6),
        (4, 6),
        (5, 7),
        (7, 9),
        (8, 10),
        (7, 10),
        (11, 13),
        (11, 12),
    ],
}
LONG_COURSE_GRADES = [(4, 6), (5, 7), (7, 9), (8, 9), (11, 13)]

FIRST_NAMES = [
    "Mette",
    "Anne",
    "Louise",
    "Camilla",
    "Sofie",
    "Line",
    "Ida",
    "Maria",
    "Hanne",
    "Kirsten",
    "Trine",
    "Signe",
    "Julie",
    "Rikke",
    "Lars",
    "Jens",
    "Peter",
    "Søren",
    "Anders",
    "Thomas",
    "Morten",
    "Rasmus",
    "Jakob",
    "Niels",
    "Henrik",
    "Martin",
    "Mads",
    "Kasper",
    "Emil",
    "Frederik",
]
LAST_NAMES = [
    "Nielsen",
    "Jensen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Poulsen",
    "Johansen",
    "Møller",
    "Mortensen",
    "Holm",
    "Lund",
    "Bach",
    "Vestergaard",
    "Kjær",
    "Dam",
    "Bisgaard",
]
PUPILS_BRING = [
    "Madpakke og drikkedunk.",
    "Praktisk tøj, der må blive beskidt.",
    "Madpakke, drikkedunk og fodtøj til at gå udenfor.",
    "En opladet bærbar computer.",
    "Madpakke. Sikkerhedsbriller og kittel får eleverne hos os.",
]
ACCESSIBILITY = [
    "Alle lokaler er i stueplan, og der er handicaptoilet.",
    "Der er elevator til laboratoriet og handicaptoilet.",
    "Værkstedet har trin ved indgangen; kontakt os, så finder vi en løsning.",
    "Der er gode adgangsforhold for kørestolsbrugere.",
]

# --- the calendar ------------------------------------------------------------------------------

SHORT_SLOTS = [
    (time(8, 15), time(11, 30)),
    (time(9, 0), time(12, 0)),
    (time(9, 0), time(14, 0)),
    (time(10, 0), time(13, 0)),
    (time(12, 0), time(14, 30)),
    (time(8, 30), time(15, 0)),
]
MENTORING_SLOTS = [
    (time(8, 15), time(9, 45)),
    (time(10, 0), time(11, 30)),
    (time(12, 15), time(13, 45)),
]
GIRLS_DAY_SLOTS = {
    1: [[(time(9, 0), time(14, 0))], [(time(8, 30), time(12, 0))], [(time(12, 0), time(15, 0))]],
    2: [[(time(8, 30), time(11, 30)), (time(12, 0), time(15, 0))]],
    3: [[(time(8, 0), time(10, 0)), (time(10, 30), time(12, 30)), (time(13, 0), time(15, 0))]],
}


@dataclass
class Calendar:
    """School days from tomorrow to a summer holiday at least 90 days ahead, without public holidays
    and without the usual school holidays (the ones seed() gives the coordinators to keep)."""

    first_day: date
    last_day: date
    school_years: list[int]
    school_holidays: list[tuple[str, date, date]] = field(default_factory=list)
    public_holidays: dict[date, str] = field(default_factory=dict)

    @classmethod
    def starting(cls, now: datetime) -> "Calendar":
        today = now.astimezone(TIMEZONE).date()
        first_day = today + timedelta(days=1)
        this_year = school_year_of(today)
        school_years = [this_year, this_year + 1]
        # The sessions run until the summer holiday; seeded late in the spring (or in the summer
        # holiday itself), until the one a year later.
        summer = next(
            starts
            for starts in map(summer_holiday_starts, school_years)
            if starts - today >= timedelta(days=90)
        )
        return cls.spanning(first_day, summer - timedelta(days=1), school_years)

    @classmethod
    def past_year(cls, now: datetime) -> "Calendar":
        """School days of the year before the day of `now` (the demo's past mentoring dates),
        with the same holidays left out as ahead."""
        today = now.astimezone(TIMEZONE).date()
        first_day = today - timedelta(days=365)
        years = list(range(school_year_of(first_day), school_year_of(today) + 1))
        return cls.spanning(first_day, today - timedelta(days=1), years)

    @classmethod
    def spanning(cls, first_day: date, last_day: date, school_years: list[int]) -> "Calendar":
        # From the year before too: its summer holiday runs into the first days of August.
        years = range(min(school_years) - 1, max(school_years) + 1)
        breaks = [b for year in years for b in standard_school_holidays(year)]
        calendar = cls(first_day, last_day, school_years)
        calendar.public_holidays = dict(
            holidays.Denmark(years=range(first_day.year, last_day.year + 1), language="da")
        )
        calendar.school_holidays = [b for b in breaks if b[2] >= first_day and b[1] <= last_day]
        return calendar

    def is_school_day(self, day: date) -> bool:
        return (
            self.first_day <= day <= self.last_day
            and day.weekday() < 5
            and day not in self.public_holidays
            and not any(start <= day <= end for _name, start, end in self.school_holidays)
        )

    @cached_property
    def school_days(self) -> list[date]:
        span = (self.last_day - self.first_day).days + 1
        days = (self.first_day + timedelta(days=n) for n in range(span))
        return [d for d in days if self.is_school_day(d)]

    def whole_weeks(self) -> list[date]:
        """Mondays of the weeks whose five days are all school days."""
        monday = self.first_day + timedelta(days=-self.first_day.weekday() % 7)
        weeks = []
        while monday + timedelta(days=4) <= self.last_day:
            if all(self.is_school_day(monday + timedelta(days=n)) for n in range(5)):
                weeks.append(monday)
            monday += timedelta(days=7)
        return weeks

    def girls_day(self) -> date:
        """The campaign day: the last Thursday of April that is a school day of this calendar
        (seeded after it, next year's)."""
        for year in range(self.first_day.year, self.last_day.year + 1):
            day = date(year, 4, 30)
            day -= timedelta(days=(day.weekday() - 3) % 7)
            while day.month == 4:
                if self.is_school_day(day):
                    return day
                day -= timedelta(days=7)
        raise ValueError("the calendar has no Thursday in April that is a school day")


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=TIMEZONE)


# --- building the data -------------------------------------------------------------------------


@dataclass
class _Provider:
    name: str
    municipality: str
    kind: ProviderKind
    themes: list[Theme]
    address: str = ""
    organisation: Organisation | None = None
    titles: set[str] = field(default_factory=set)


@dataclass
class _OfferPlan:
    offer: Offer
    provider: _Provider
    themes: list[Theme]
    subjects: list[Subject]
    session_seed: int


def _address(rng: random.Random, streets: list[str], postal: str) -> str:
    return f"{rng.choice(streets)} {rng.randint(1, 120)}, {postal}"


def _allowed(name: str, used: set[str]) -> bool:
    """Unique, and "Viborg" in no name but the one a browser test searches for."""
    return name not in used and "viborg" not in name.lower()


def _schools(rng: random.Random) -> list[Organisation]:
    used = {name for name, _m, _l in SCHOOLS}
    generic = list(SCHOOL_NAMES)
    rng.shuffle(generic)
    made = []
    for name, municipality, level in SCHOOLS:
        towns = TOWNS[municipality]
        made.append(_school(name, municipality, level, _address(rng, SCHOOL_STREETS, towns[0][1])))
    for municipality, towns in TOWNS.items():
        fewest, most = PRIMARY_COUNTS[municipality]
        wanted = rng.randint(fewest, most)
        candidates = []
        for town, postal in towns[1:]:
            form = rng.choices(["{} Skole", "{} Friskole", "{} Centralskole"], weights=[8, 2, 1])[0]
            candidates.append((form.format(town), postal))
        for _ in range(2):
            if generic:
                candidates.append((generic.pop(), towns[0][1]))
        if municipality == "Samsø":
            candidates.insert(0, ("Samsø Skole", towns[0][1]))
        rng.shuffle(candidates)
        chosen = [c for c in candidates if _allowed(c[0], used)][:wanted]
        for name, postal in chosen:
            used.add(name)
            address = _address(rng, SCHOOL_STREETS, postal)
            made.append(_school(name, municipality, SchoolLevel.primary, address))
        for name in UPPER_SECONDARY[municipality]:
            if _allowed(name, used):
                used.add(name)
                postal = next((p for t, p in towns if name.startswith(f"{t} ")), towns[0][1])
                address = _address(rng, SCHOOL_STREETS, postal)
                made.append(_school(name, municipality, SchoolLevel.upper_secondary, address))
    return made


def _school(name: str, municipality: str, level: SchoolLevel, address: str) -> Organisation:
    return Organisation(
        name=name,
        kind=OrganisationKind.school,
        municipality=municipality,
        school_level=level,
        address=address,
    )


def _providers(rng: random.Random) -> list[_Provider]:
    providers = [
        _Provider(name, municipality, kind, EXISTING_THEMES[name])
        for name, municipality, kind in PROVIDERS
    ]
    providers += [_Provider(*entry) for entry in NAMED_PROVIDERS]
    used = {p.name for p in providers}
    municipalities = list(TOWNS)
    spread = municipalities + rng.choices(
        municipalities,
        weights=[MUNICIPALITY_WEIGHTS[m] for m in municipalities],
        k=GENERATED_COMPANIES - len(municipalities),
    )
    for municipality in spread:
        prefixes = [region for region, places in REGIONS.items() if municipality in places]
        prefixes += [town for town, _postal in TOWNS[municipality][:4] if town != "Aarhus"]
        while True:
            theme = rng.choice(list(Theme))
            name = f"{rng.choice(prefixes)} {rng.choice(TRADES[theme])}"
            name += rng.choices(["", " ApS", " A/S"], weights=[3, 4, 3])[0]
            if _allowed(name, used):
                break
        used.add(name)
        second = rng.choice([t for t in Theme if t != theme])
        themes = [theme, second] if rng.random() < 0.4 else [theme]
        providers.append(_Provider(name, municipality, ProviderKind.company, themes))
    for provider in providers:
        towns = TOWNS[provider.municipality]
        postal = rng.choice(towns[:3])[1]
        provider.address = _address(rng, PROVIDER_STREETS, postal)
        provider.organisation = Organisation(
            name=provider.name,
            kind=OrganisationKind.provider,
            municipality=provider.municipality,
            provider_kind=provider.kind,
            address=provider.address,
        )
    return providers


def _slug(text: str) -> str:
    text = text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    for suffix in (" aps", " a/s"):
        text = text.removesuffix(suffix)
    return "".join(c if c.isalnum() else "-" for c in text).strip("-").replace("--", "-")


def _grade_label(grade_min: int, grade_max: int) -> str:
    def one(grade: int) -> str:
        return f"{grade - 10}.g" if grade > 10 else f"{grade}. klasse"

    if grade_min > 10:
        return f"{grade_min - 10}.–{grade_max - 10}.g"
    if grade_max <= 10:
        return f"{grade_min}.–{grade_max}. klasse"
    return f"{one(grade_min)} – {one(grade_max)}"


def _subjects(
    rng: random.Random, themes: list[Theme], grade_min: int, grade_max: int
) -> list[Subject]:
    def fits(subject: Subject) -> bool:
        if subject == Subject.nature_technology:
            return grade_min <= 6
        if subject == Subject.informatics:
            return grade_max >= 11
        if subject == Subject.technology_understanding:
            return grade_min <= 10
        if subject == Subject.physics_chemistry:
            return grade_max >= 7
        if subject == Subject.biology:
            return grade_max >= 7
        return True

    pool = [s for theme in themes for s in THEME_SUBJECTS[theme] if fits(s)]
    pool = list(dict.fromkeys(pool)) or [Subject.maths]
    return rng.sample(pool, min(len(pool), rng.choice([1, 2, 2, 3])))


def _lower(text: str) -> str:
    """Lower-case the first letter, unless it starts an abbreviation (DNA, CO₂)."""
    return text if text[1:2].isupper() else text[:1].lower() + text[1:]


def _pick_title(
    rng: random.Random, options: list[tuple[str, str]], used: set[str], own: set[str]
) -> tuple[str, str]:
    """A title from (title, topic) pairs: one no one has yet if there is one, else one this provider
    has not used; the topic goes into the texts."""
    fresh = [o for o in options if o[0] not in used] or [o for o in options if o[0] not in own]
    title, topic = rng.choice(fresh or options)
    if title in own:
        title = f"{title} ({sum(t.startswith(title) for t in own) + 1})"
    used.add(title)
    own.add(title)
    return title, topic


def _texts(
    rng: random.Random,
    kind: OfferType,
    long: bool,
    theme: Theme,
    provider: _Provider,
    used: set[str],
    grades: str,
    subjects: list[Subject],
    themes: list[Theme],
) -> tuple[str, str, str]:
    own = provider.titles
    who = provider.name
    facts = [
        f"- **Klassetrin:** {grades}",
        f"- **Fag:** {', '.join(SUBJECT_NAMES[s] for s in subjects)}",
        f"- **Tema:** {', '.join(THEME_NAMES[t] for t in themes)}",
    ]
    if kind == OfferType.company_week:
        options = [(f"Virksomhedsuge: {t}", t) for t in COMPANY_WEEK_TOPICS[theme]]
        title, topic = _pick_title(rng, options, used, own)
        summary = (
            f"Klassen arbejder en hel uge med en virkelig opgave fra {who} og kan dyste i "
            "den regionale finale om Virksomhedsugens pris."
        )
        body = [
            f"I en hel uge er klassen konsulenter for **{who}**. Opgaven: *{_lower(topic)}*.",
            "",
            "- **Mandag:** besøg i virksomheden, rundvisning og opgaven bliver stillet",
            "- **Tirsdag–torsdag:** idéer, beregninger, eksperimenter og prototyper i grupper",
            "- **Fredag:** grupperne præsenterer deres løsning for medarbejderne",
            "",
            "De bedste løsninger går videre til den regionale finale med præmie.",
        ]
    elif kind == OfferType.innovation_game:
        options = [(f"Innovationsspil om {c}", c) for c in CHALLENGES[theme]]
        title, challenge = _pick_title(rng, options, used, own)
        summary = (
            f"En dag hvor gymnasieelever fra flere skoler i blandede hold udvikler løsninger på "
            f"{challenge} og pitcher dem for et dommerpanel fra {who}."
        )
        body = [
            f"**{who}** stiller en samfundsudfordring: *{challenge}*. Eleverne arbejder i hold "
            "på tværs af skoler og klasser og bruger innovationsmetoder fra idé til pitch.",
            "",
            "1. Oplæg fra eksperter og virksomheder",
            "2. Idéudvikling og hurtige prototyper",
            "3. Pitch for dommerpanelet – det bedste hold vinder",
        ]
    elif kind == OfferType.girls_day:
        options = [(f"Girls Day in Science: {t}", t) for t in GIRLS_DAY_TOPICS[theme]]
        title, _topic = _pick_title(rng, options, used, own)
        summary = (
            f"Piger prøver selv kræfter med naturvidenskab og teknologi og møder kvindelige "
            f"rollemodeller fra {who}."
        )
        body = [
            "En del af den landsdækkende kampagnedag **Girls Day in Science**.",
            "",
            f"Pigerne arbejder hands-on i små hold og møder kvinder, der arbejder hos {who}. "
            "De fortæller om deres uddannelse og hverdag – og svarer på alt, hvad pigerne vil "
            "vide.",
            "",
            "*Kun for piger.* Tilmeld gerne en hel klasses piger på én gang.",
        ]
    elif kind == OfferType.expert:
        options = [(f"Book en ekspert: {e}", e) for e in EXPERTS[theme]]
        title, _topic = _pick_title(rng, options, used, own)
        summary = (
            f"En medarbejder fra {who} besøger klassen, fortæller om sit arbejde og svarer på "
            "spørgsmål."
        )
        body = [
            f"Få en ekspert fra **{who}** ud på skolen. Besøget varer typisk 1–2 lektioner og "
            "tilpasses klassens forløb – send os gerne elevernes spørgsmål på forhånd.",
            "",
            "Skriv i bookingen, hvilke datoer der passer jer, så finder vi en tid.",
        ]
    elif kind == OfferType.mentoring:
        options = [(f"Ung til ung: {t}", t) for t in MENTORING_TOPICS[theme] + MENTORING_GENERAL]
        title, _topic = _pick_title(rng, options, used, own)
        summary = (
            f"Unge mentorer fra {who} besøger klassen og fortæller ærligt om deres vej til en "
            "naturvidenskabelig eller teknisk uddannelse."
        )
        body = [
            "To til fire unge mentorer kommer ud på skolen og fortæller om deres uddannelse, "
            "deres valg og fravalg – og om hvordan en hverdag med naturvidenskab og teknik ser ud.",
            "",
            "- Oplæg fra mentorerne",
            "- Samtaler i små grupper",
            "- Spørgsmål, der ikke er for dumme",
        ]
    else:
        forms = LONG_COURSE_FORMS if long else SHORT_COURSE_FORMS
        options = [(form.format(t), t) for t in COURSE_TOPICS[theme] for form in forms]
        title, topic = _pick_title(rng, options, used, own)
        if long:
            summary = (
                "Et længere forløb over flere dage, hvor eleverne arbejder som ingeniører og "
                f"forskere med {_lower(topic)} sammen med {who}."
            )
            body = [
                f"Forløbet løber over flere dage. Eleverne får en opgave fra **{who}** og arbejder "
                "med den efter ingeniørens designproces: undersøg, forestil dig, planlæg, byg og "
                "forbedr.",
                "",
                "Læreren får et kort materiale til forberedelse og opfølgning i klassen.",
            ]
        else:
            summary = f"En dag om {_lower(topic)} med forsøg, undersøgelser og fagfolk fra {who}."
            body = [
                f"Eleverne undersøger **{_lower(topic)}** med rigtigt udstyr og får hjælp af "
                f"fagfolk fra {who}.",
                "",
                "Dagen veksler mellem korte oplæg, forsøg i små grupper og en fælles opsamling.",
            ]
    description = "\n".join(body + ["", *facts])
    return title, summary, description


def _offers(rng: random.Random, providers: list[_Provider], now: datetime) -> list[_OfferPlan]:
    plans = []
    used_titles: set[str] = set()
    for provider in providers:
        if provider.name == "Grundfos Lab":
            kinds = list(GRUNDFOS_OFFERS)
        else:
            weights = TYPE_WEIGHTS[provider.kind]
            fewest, most = OFFERS_PER_PROVIDER[provider.kind]
            number_of_offers = rng.randint(fewest, most)
            kinds = rng.choices(list(weights), weights=list(weights.values()), k=number_of_offers)
        contact_first, contact_last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{_slug(contact_first)}.{_slug(contact_last)}@{_slug(provider.name)}.example"
        for number, kind in enumerate(kinds):
            if provider.name == "Grundfos Lab":
                long, draft = number == 6, number == 7
            else:
                long = kind == OfferType.course and rng.random() < 0.25
                draft = rng.random() < 0.08
            if kind == OfferType.company_week:
                long = True
            main_theme = rng.random() < 0.6 and len(provider.themes) <= 2
            theme = provider.themes[0] if main_theme else rng.choice(provider.themes)
            extra = [t for t in Theme if t != theme]
            themes = [theme] + rng.sample(extra, rng.choice([0, 0, 1, 1, 2]))
            long_course = long and kind == OfferType.course
            grade_min, grade_max = rng.choice(LONG_COURSE_GRADES if long_course else GRADES[kind])
            assert GRADE_MIN <= grade_min <= grade_max <= GRADE_MAX
            subjects = _subjects(rng, themes, grade_min, grade_max)
            title, summary, description = _texts(
                rng,
                kind,
                long,
                theme,
                provider,
                used_titles,
                _grade_label(grade_min, grade_max),
                subjects,
                themes,
            )
            if kind in (OfferType.expert, OfferType.mentoring):
                offer_format = OfferFormat.online if rng.random() < 0.15 else OfferFormat.at_school
            elif kind == OfferType.course:
                online = 1 if theme == Theme.ict else 0.3
                offer_format = rng.choices(list(OfferFormat), weights=[6, 3, online])[0]
            else:
                offer_format = OfferFormat.at_provider
            at_provider = offer_format == OfferFormat.at_provider
            created = now - timedelta(days=rng.randint(20, 200), minutes=rng.randint(0, 600))
            published = None if draft else created + timedelta(days=rng.randint(0, 14))
            min_pupils = rng.choice([None, None, None, 10, 12, 15])
            max_pupils = rng.choice([None, None, 28, 30, 56])
            if kind == OfferType.innovation_game:
                max_pupils = None
            lat, lon = MUNICIPALITIES[provider.municipality]
            offer = Offer(
                provider_id=0,
                type=kind,
                status=OfferStatus.draft if draft else OfferStatus.published,
                title=title,
                summary=summary,
                description=description,
                grade_min=grade_min,
                grade_max=grade_max,
                format=offer_format,
                is_long=long,
                # The demo provider's long course is one course over four weeks: booked as a whole.
                all_dates_together=long and kind == OfferType.course and provider.name == "Grundfos Lab",
                girls_only=kind == OfferType.girls_day,
                address=provider.address if at_provider else "",
                municipality=provider.municipality,
                latitude=round(lat + rng.uniform(-0.05, 0.05), 5),
                longitude=round(lon + rng.uniform(-0.05, 0.05), 5),
                language="da",
                pupils_bring=rng.choice(PUPILS_BRING) if at_provider else "",
                accessibility=rng.choice(ACCESSIBILITY) if at_provider else "",
                contact_name=f"{contact_first} {contact_last}",
                contact_email=email,
                requires_approval=rng.random() < (0.6 if kind == OfferType.girls_day else 0.85),
                cancellation_weekdays=rng.randint(5, 10),
                min_pupils=min_pupils,
                max_pupils=max_pupils,
                lead_days=rng.randint(7, 21) if kind == OfferType.expert else None,
                max_visits_per_week=rng.randint(1, 3) if kind == OfferType.expert else None,
                created_at=created,
                updated_at=published or created,
                published_at=published,
            )
            plans.append(_OfferPlan(offer, provider, themes, subjects, rng.getrandbits(32)))
    return plans


# --- sessions ------------------------------------------------------------------------------------


def _sessions(plan: _OfferPlan, calendar: Calendar, now: datetime) -> list[dict]:
    """The sessions of one offer, as rows for a bulk insert."""
    offer = plan.offer
    rng = random.Random(plan.session_seed)
    kind = offer.type
    times: list[tuple[datetime, datetime, str]] = []
    series = None
    if kind == OfferType.expert:
        return []
    if kind == OfferType.company_week:
        weeks = calendar.whole_weeks()
        for monday in sorted(rng.sample(weeks, min(len(weeks), rng.randint(2, 5)))):
            note = f"Uge {monday.isocalendar().week}"
            friday = monday + timedelta(days=4)
            times.append((_at(monday, time(8, 0)), _at(friday, time(15, 0)), note))
    elif kind == OfferType.girls_day:
        day = calendar.girls_day()
        for start, end in rng.choice(GIRLS_DAY_SLOTS[rng.choice([1, 1, 2, 2, 3])]):
            note = "Formiddag" if start.hour < 12 else "Eftermiddag"
            if end.hour - start.hour >= 5:
                note = ""  # the whole day
            times.append((_at(day, start), _at(day, end), note))
    elif kind == OfferType.innovation_game:
        days = calendar.school_days
        for day in sorted(rng.sample(days, min(len(days), rng.randint(1, 3)))):
            times.append((_at(day, time(8, 30)), _at(day, time(15, 0)), ""))
    elif kind == OfferType.course and offer.all_dates_together:
        # One day a week for four weeks, the same weekday: a class takes all four.
        weekday = rng.randrange(5)
        days = [d for d in calendar.school_days if d.weekday() == weekday]
        first = rng.randrange(max(1, len(days) - 8))
        for number, day in enumerate(days[first : first + 4], start=1):
            times.append((_at(day, time(8, 30)), _at(day, time(14, 0)), f"Dag {number} af 4"))
        series = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    elif kind == OfferType.course and offer.is_long:
        # Two or three days in a row, every few weeks.
        length = rng.choice([2, 3])
        days = calendar.school_days
        starts = [
            d
            for d in days
            if d.weekday() + length <= 5
            and all(calendar.is_school_day(d + timedelta(days=n)) for n in range(length))
        ]
        wanted = rng.randint(4, 8)
        step = max(1, len(starts) // wanted)
        offset = rng.randrange(step)
        for day in starts[offset::step][:wanted]:
            end = day + timedelta(days=length - 1)
            times.append((_at(day, time(8, 30)), _at(end, time(14, 30)), f"{length} dage"))
        series = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    else:
        # A weekly rule on one or two weekdays, thinned to a number of dates that fits the offer.
        weekdays = sorted(rng.sample(range(5), rng.choice([1, 1, 2])))
        slots = MENTORING_SLOTS if kind == OfferType.mentoring else SHORT_SLOTS
        start, end = rng.choice(slots)
        days = [d for d in calendar.school_days if d.weekday() in weekdays]
        wanted = rng.randint(8, 34)
        weeks = sorted({d - timedelta(days=d.weekday()) for d in days})
        every = max(1, round(len(weeks) * len(weekdays) / wanted))
        chosen_weeks = set(weeks[rng.randrange(every) if every > 1 else 0 :: every])
        for day in days:
            if day - timedelta(days=day.weekday()) in chosen_weeks:
                times.append((_at(day, start), _at(day, end), ""))
        series = str(uuid.UUID(int=rng.getrandbits(128), version=4))

    if kind == OfferType.innovation_game:
        capacity = rng.choice([60, 75, 90, 100, 120])
        classes = rng.randint(3, 5)
    elif kind == OfferType.girls_day:
        capacity = rng.choice([20, 24, 30, 40, 50])
        classes = None
    elif kind in (OfferType.mentoring, OfferType.company_week):
        capacity = rng.choice([20, 25, 28, 30])
        classes = 1
    else:
        capacity = rng.choice([20, 24, 25, 28, 30, 50, 56, 60])
        classes = rng.choice([None, max(1, min(5, capacity // 25))])
    capacity = max(capacity, offer.min_pupils or 0)
    rows = []
    for starts_at, ends_at, note in times:
        deadline = starts_at - timedelta(days=7)
        rows.append(
            {
                "starts_at": starts_at,
                "ends_at": ends_at,
                "capacity_pupils": capacity,
                "capacity_classes": classes,
                "booking_deadline": deadline if deadline > now else None,
                "series": series,
                "note": note,
                "cancelled_at": None,
                "created_at": now,
            }
        )
    return rows


# --- seeding -------------------------------------------------------------------------------------


def seed(db: Session, *, now: datetime) -> bool:
    """Add the demo data unless it is there already, with dates from the day after `now` and the
    usual school holidays of the school years they fall in. Returns whether anything was added."""
    if db.exec(select(User).where(User.email == ACCOUNTS["admin"])).first():
        return False
    rng = random.Random(SEED)
    calendar = Calendar.starting(now)
    for school_year in calendar.school_years:
        add_standard_holidays(db, None, school_year, now=now)

    schools = _schools(rng)
    providers = _providers(rng)
    db.add_all(schools + [p.organisation for p in providers])
    db.flush()

    plans = _offers(rng, providers, now)
    for plan in plans:
        plan.offer.provider_id = plan.provider.organisation.id
    db.add_all([plan.offer for plan in plans])
    db.flush()

    themes, subjects, sessions = [], [], []
    for plan in plans:
        offer_id = plan.offer.id
        themes += [{"offer_id": offer_id, "theme": theme} for theme in plan.themes]
        subjects += [{"offer_id": offer_id, "subject": subject} for subject in plan.subjects]
        sessions += [{"offer_id": offer_id, **row} for row in _sessions(plan, calendar, now)]
    connection = db.connection()
    for model, rows in ((OfferTheme, themes), (OfferSubject, subjects), (OfferSession, sessions)):
        if rows:
            connection.execute(insert(model.__table__), rows)

    by_name = {o.name: o for o in schools + [p.organisation for p in providers]}
    password_hash = secrets.hash_password(PASSWORD)
    people = {
        "teacher": ("Lærke Lærer", by_name["Frederiksbjerg Skole"].id),
        "provider": ("Ulrik Udbyder", by_name["Grundfos Lab"].id),
        "mentor": ("Mikkel Mentor", by_name["Holstebro Gymnasium og HF"].id),
        "coordinator": ("Karen Koordinator", None),
        "admin": ("Anders Admin", None),
    }
    for role, (name, organisation_id) in people.items():
        db.add(
            User(
                email=ACCOUNTS[role],
                name=name,
                role=Role(role),
                organisation_id=organisation_id,
                password_hash=password_hash,
            )
        )
    db.commit()
    _bookings(db, rng, schools, by_name["Grundfos Lab"].id, now)
    from app.demo_mentors import seed_mentors  # it builds on this module

    seed_mentors(db, calendar=calendar, now=now)
    from app.demo_history import seed_history  # it builds on the offers and mentors above

    seed_history(db, now=now)
    return True


def _bookings(db: Session, rng: random.Random, schools: list[Organisation], provider_id: int, now: datetime) -> None:
    """Bookings made through the booking rules, so every demo account has something to look at on
    any day it is seeded: the demo provider's first date is booked full with two classes waiting and
    two more dates have classes coming, the coordinator has an approval queue, and the demo
    teacher's school has bookings waiting for approval and confirmed. The other teachers cannot
    log in."""
    from app.bookings.models import BookingStatus
    from app.bookings.schemas import BookingIn
    from app.bookings.service import book_session
    from app.errors import DomainError

    teachers = [db.exec(select(User).where(User.email == ACCOUNTS["teacher"])).one()]
    for number, school in enumerate(rng.sample([s for s in schools if s.name != "Frederiksbjerg Skole"], 14)):
        teacher = User(email=f"laerer{number + 1}@demo.stem.dk", name=f"Lærer {number + 1}", role=Role.teacher,
                       organisation_id=school.id, password_hash=None)
        db.add(teacher)
        teachers.append(teacher)
    db.commit()
    others = teachers[1:]

    def book(session: OfferSession, offer: Offer, teacher: User, letter: int, *, waitlist: bool = False) -> BookingStatus | None:
        grade = rng.randint(offer.grade_min, offer.grade_max)
        most = min(offer.max_pupils or 28, session.capacity_pupils)
        pupils = max(offer.min_pupils or 1, min(most, rng.randint(18, 28)))
        girls = pupils if offer.girls_only else rng.randint(pupils // 3, pupils // 2 + 1)
        data = BookingIn(session_id=session.id, class_name=f"{grade}.{'abcdefghijklmnop'[letter]}", grade=grade,
                         pupils=pupils, girls=girls, waitlist=waitlist)
        try:
            return book_session(db, teacher, data, now=now).status
        except DomainError:
            db.rollback()  # e.g. the class is busy at that time: the demo simply has one booking fewer
            return None

    # Dates a class can book on its own, far enough ahead that no deadline is near whatever day
    # the demo is seeded (a course booked as a whole is full or free on all its dates at once).
    upcoming = db.exec(
        select(OfferSession, Offer)
        .join(Offer, Offer.id == OfferSession.offer_id)
        .where(
            Offer.status == OfferStatus.published,
            Offer.type != OfferType.expert,
            col(Offer.all_dates_together).is_(False),
            OfferSession.starts_at > now + timedelta(days=14),
        )
        .order_by(OfferSession.starts_at, OfferSession.id)
    ).all()
    own = [(s, o) for s, o in upcoming if o.provider_id == provider_id]
    (full, full_offer), *later = own
    waiting = 0
    for number, teacher in enumerate(others):
        waiting += book(full, full_offer, teacher, number, waitlist=True) == BookingStatus.waitlisted
        if waiting == 2:
            break
    coming = {o.id: (s, o) for s, o in reversed(later) if o.id != full_offer.id}  # each offer's first date
    for session, offer in list(coming.values())[:2]:
        for number, teacher in enumerate(rng.sample(others, 2)):
            book(session, offer, teacher, number)

    foreign = [(s, o) for s, o in upcoming if o.provider_id != provider_id]
    approved_first = rng.sample([so for so in foreign if so[1].requires_approval], 8)
    booked_at_once = rng.sample([so for so in foreign if not so[1].requires_approval], 4)
    for index, (session, offer) in enumerate(approved_first + booked_at_once):
        classes = [teachers[0], *rng.sample(others, 2)] if index % 4 == 0 else rng.sample(others, 3)
        for number, teacher in enumerate(classes):
            # The demo teacher's classes differ, so no two of their bookings clash.
            book(session, offer, teacher, index if teacher is teachers[0] else number + 1)
