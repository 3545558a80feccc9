"""Words people read for the domain's codes (roles, kinds, levels), in the visitor's language."""

from app.i18n import _, ngettext


def label(code: object) -> str:
    """The display name of an enum value; unknown codes are shown as they are."""
    value = getattr(code, "value", code)
    if isinstance(value, str) and value.startswith("allocation round "):
        return _("allocation round %(num)s") % {"num": value.removeprefix("allocation round ")}
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
        # offer types
        "company_week": _("Company week"),
        "innovation_game": _("Innovation game"),
        "girls_day": _("Girls Day in Science"),
        "expert": _("Book an expert"),
        "mentoring": _("Youth-to-youth mentoring"),
        "course": _("Course"),
        # themes
        "food": _("Food"),
        "climate_energy": _("Climate and energy"),
        "industry": _("Industry and manufacturing"),
        "ict": _("ICT and digital"),
        "health": _("Health"),
        # subjects
        "maths": _("Mathematics"),
        "physics_chemistry": _("Physics/chemistry"),
        "biology": _("Biology"),
        "nature_technology": _("Nature and technology"),
        "technology_understanding": _("Technology understanding"),
        "informatics": _("Informatics"),
        # formats
        "at_provider": _("At the provider"),
        "at_school": _("At the school"),
        "online": _("Online"),
        # resources
        "person": _("Person"),
        "room": _("Room"),
        "equipment": _("Equipment"),
        # offer states
        "draft": _("Draft"),
        "published": _("Published"),
        "unpublished": _("Not published"),
        "archived": _("Archived"),
        # booking states
        "pending": _("Awaiting approval"),
        "confirmed": _("Confirmed"),
        "waitlisted": _("On the waiting list"),
        "offered": _("Place offered"),
        "declined": _("Declined"),
        "cancelled": _("Booking cancelled"),
        "called_off": _("Called off by the provider"),
        "in_draw": _("In the draw"),
        "expired": _("Expired"),
        "completed": _("Completed"),
        # expert proposals and allocation rounds
        "proposed": _("Proposed"),
        "counter_proposed": _("Another time proposed"),
        "accepted": _("Accepted"),
        "withdrawn": _("Withdrawn"),
        "open": _("Open"),
        "allocated": _("Allocated"),
        # why the portal changed a booking (stored in English in the booking's history)
        "a place became free": _("a place became free"),
        "accepted the offered place": _("accepted the offered place"),
        "not approved in time": _("not approved in time"),
        "not accepted in time": _("not accepted in time"),
        "the activity took place": _("the activity took place"),
        "the provider cancelled the date": _("the provider cancelled the date"),
        "the provider moved the date": _("the provider moved the date"),
    }
    return names.get(str(value), str(value))


def notice(code: str | None, count: int = 1) -> str | None:
    """The confirmation shown after a redirect (`?notice=saved`, with `count` for how many things it
    is about, e.g. dates added); unknown codes show nothing."""
    if not code:
        return None
    texts = {
        "saved": _("Your changes have been saved."),
        "session_ended": _("It is logged out."),
        "published": _("The offer is published and can be found in the catalogue."),
        "unpublished": _("The offer is no longer shown in the catalogue."),
        "archived": _("The offer is archived."),
        "session_added": ngettext("The date has been added.", "The dates have been added.", count),
        "offer_duplicated": _("This is a copy of the offer, not yet published. Check it, save it, and then add its dates."),
        "search_saved": _(
            "The search is saved. We will e-mail you when a new activity matches it."
        ),
        "search_deleted": _("The search is deleted."),
        "deleted": _("Deleted."),
        "booked_pending": _("Booked. A coordinator will approve the booking; the places are yours meanwhile."),
        "booked_confirmed": _("Booked and confirmed."),
        "booked_waitlisted": _("You are on the waiting list. We tell you when a place becomes yours."),
        "booked_request": _("Your request is received. The places are allocated by a fair draw after the deadline."),
        "booking_cancelled": _("The booking is cancelled."),
        "place_accepted": _("You have taken the place."),
        "all_read": _("All messages are marked as read."),
        "mail_retry": _("The worker tries to send the e-mail again within a minute."),
        "booking_approved": _("The booking is approved."),
        "booking_declined": _("The booking is declined."),
        "bulk_approved": _("The chosen bookings are approved."),
        "bulk_partly": _("Some of the chosen bookings are approved. The others had already been decided."),
        "bulk_none": _("None of the chosen bookings could be approved: they had already been decided."),
        "bulk_none_chosen": _("Nothing was approved: tick the bookings to approve first."),
        "bulk_declined": _("The chosen bookings are declined, and the teachers are told why."),
        "bulk_decline_partly": _("Some of the chosen bookings are declined. The others had already been decided."),
        "bulk_decline_none": _("None of the chosen bookings could be declined: they had already been decided."),
        "bulk_decline_none_chosen": _("Nothing was declined: tick the bookings to decline first."),
        "session_cancelled": _("The date has been cancelled."),
        "created": _("Created."),
        "invited": _("An invitation has been sent by e-mail."),
        "invitation_failed": _(
            "The user has been created, but the invitation e-mail could not be sent. Try sending it again."
        ),
        "password_changed": _(
            "Your password has been changed. Other devices have been logged out."
        ),
        "password_set": _("Your password has been saved. You can log in now."),
        "logged_out": _("You are logged out."),
    }
    return texts.get(code)


def choices(codes) -> list[tuple[str, str]]:
    """(value, display name) pairs for a select box."""
    return [(getattr(c, "value", c), label(c)) for c in codes]


def grade(number: int) -> str:
    """A grade as Danish schools say it: 0.-10. klasse, then 1.-3. g for upper secondary."""
    if number <= 10:
        return _("grade %(num)d") % {"num": number}
    return _("upper secondary year %(num)d") % {"num": number - 10}


def grade_range(low: int, high: int) -> str:
    return grade(low) if low == high else f"{grade(low)} – {grade(high)}"


def weekday_name(number: int) -> str:
    return (
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    )[number]


def weekday_choices() -> list[tuple[str, str]]:
    """The school weekdays, Monday to Friday, for a select box or checkboxes."""
    return [(str(n), weekday_name(n)) for n in range(5)]


def resource_choices(resources) -> list[tuple[int, str]]:
    return [(r.id, f"{r.name} ({label(r.kind)})") for r in resources]
