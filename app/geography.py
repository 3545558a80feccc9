"""The 19 municipalities of Central Denmark Region, with a central point of each for distances."""

from math import asin, cos, radians, sin, sqrt

# (latitude, longitude) of each municipality's main town.
MUNICIPALITIES: dict[str, tuple[float, float]] = {
    "Favrskov": (56.3356, 9.9536),
    "Hedensted": (55.7720, 9.7030),
    "Herning": (56.1393, 8.9738),
    "Holstebro": (56.3601, 8.6161),
    "Horsens": (55.8607, 9.8503),
    "Ikast-Brande": (56.1387, 9.1577),
    "Lemvig": (56.5486, 8.3102),
    "Norddjurs": (56.4440, 10.8640),
    "Odder": (55.9731, 10.1527),
    "Randers": (56.4607, 10.0364),
    "Ringkøbing-Skjern": (56.0897, 8.2437),
    "Samsø": (55.8700, 10.6100),
    "Silkeborg": (56.1697, 9.5451),
    "Skanderborg": (56.0340, 9.9310),
    "Skive": (56.5668, 9.0271),
    "Struer": (56.4922, 8.5940),
    "Syddjurs": (56.3117, 10.5250),
    "Viborg": (56.4532, 9.4020),
    "Aarhus": (56.1567, 10.2108),
}

MUNICIPALITY_NAMES: tuple[str, ...] = tuple(
    sorted(MUNICIPALITIES, key=lambda n: n.replace("Aa", "Å"))
)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(radians, (*a, *b))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * asin(sqrt(h))
