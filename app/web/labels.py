"""Words people read for the domain's codes (roles, kinds, levels), in the visitor's language."""

from app.i18n import _


def label(code: object) -> str:
    """The display name of an enum value; unknown codes are shown as they are."""
    value = getattr(code, "value", code)
    names = {
        "teacher": _("Teacher"),
        "provider": _("Provider"),
        "mentor": _("Mentor"),
        "coordinator": _("Coordinator"),
        "admin": _("Administrator"),
        "school": _("School"),
        "primary": _("Primary and lower secondary (grades 0–10)"),
        "upper_secondary": _("Upper secondary"),
        "company": _("Company"),
        "science_centre": _("Science centre"),
        "university": _("University"),
        "college": _("College"),
    }
    return names.get(str(value), str(value))


def notice(code: str | None) -> str | None:
    """The confirmation shown after a redirect (`?notice=saved`); unknown codes show nothing."""
    if not code:
        return None
    texts = {
        "saved": _("Your changes have been saved."),
        "created": _("Created."),
        "invited": _("An invitation has been sent by e-mail."),
        "password_changed": _("Your password has been changed. Other devices have been logged out."),
        "password_set": _("Your password has been saved. You can log in now."),
        "logged_out": _("You are logged out."),
    }
    return texts.get(code)


def choices(codes) -> list[tuple[str, str]]:
    """(value, display name) pairs for a select box."""
    return [(getattr(c, "value", c), label(c)) for c in codes]
