"""Demo data: a few schools and providers across the region and one account per role."""

from sqlmodel import Session, select

from app.accounts import secrets
from app.accounts.models import Organisation, OrganisationKind, ProviderKind, Role, SchoolLevel, User

PASSWORD = "stem-demo-2026"
ACCOUNTS = {
    "teacher": "laerer@demo.stem.dk",
    "provider": "udbyder@demo.stem.dk",
    "mentor": "mentor@demo.stem.dk",
    "coordinator": "koordinator@demo.stem.dk",
    "admin": "admin@demo.stem.dk",
}

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


def seed(db: Session) -> bool:
    """Add the demo data unless it is there already. Returns whether anything was added."""
    if db.exec(select(User).where(User.email == ACCOUNTS["admin"])).first():
        return False
    schools = [
        Organisation(name=n, kind=OrganisationKind.school, municipality=m, school_level=level)
        for n, m, level in SCHOOLS
    ]
    providers = [
        Organisation(name=n, kind=OrganisationKind.provider, municipality=m, provider_kind=kind)
        for n, m, kind in PROVIDERS
    ]
    db.add_all(schools + providers)
    db.flush()
    password_hash = secrets.hash_password(PASSWORD)
    people = {
        "teacher": ("Lærke Lærer", schools[0].id),
        "provider": ("Ulrik Udbyder", providers[0].id),
        "mentor": ("Mikkel Mentor", schools[1].id),
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
    return True
