"""The texts a mentor and a guardian agree to: the programme's code of conduct, and what a guardian
consents to for a minor mentor. Each has a version, stored with every acceptance as proof of what
was read: change a text, change its version."""

from app.i18n import _

CONDUCT_VERSION = "2026-12"
CONSENT_TEXT_VERSION = "2026-12"


def conduct_rules() -> list[str]:
    """The code of conduct, one rule a line, in the current language (the sign-up and shift pages)."""
    return [
        _(
            "The class's teacher stays with the class the whole time. A mentor is never alone with pupils."
        ),
        _("I meet every pupil with respect, and I never tease, pressure or leave out anyone."),
        _("I do not take photos or videos of pupils, and I do not pass on what pupils tell me."),
        _("I do not exchange phone numbers with pupils or connect with them on social media."),
        _("If something about a pupil worries me, I tell the teacher at once."),
        _("I come on time. If I cannot come, I leave the shift in the portal as soon as I know."),
    ]


def consent_sections(*, consent_age: int) -> list[tuple[str, str]]:
    """What a guardian reads before consenting (version CONSENT_TEXT_VERSION): headings and text."""
    return [
        (
            _("What youth-to-youth mentoring is"),
            _(
                "Youth-to-youth mentoring is part of the technology pact in Central Denmark Region. "
                "Young people with a STEM study line visit classes to tell about their education and "
                "what they use science, technology, engineering and mathematics for. The class's "
                "teacher stays with the class the whole time: a mentor is never alone with pupils."
            ),
        ),
        (
            _("Why we ask you"),
            _(
                "A mentor under %(age)d can only take part when a parent or guardian consents. Until "
                "you do, the mentor cannot be approved or take any visit."
            )
            % {"age": consent_age},
        ),
        (
            _("What we store, and why"),
            _(
                "The mentor's name, e-mail address, date of birth, institution, study line, expected "
                "year of finishing, themes, the municipalities they can reach and, if they wrote it, "
                "why they chose STEM. The date of birth tells us whether a guardian's consent and a "
                "child certificate are needed; the rest lets us find visits that suit them. We store "
                "no CPR number. About you we store your name, your e-mail address, when you consented "
                "and to which version of this text, as proof of your consent."
            ),
        ),
        (
            _("Who sees what"),
            _(
                "Schools and activity providers see only the mentor's first name, institution and "
                "study line (and why they chose STEM, if the mentor chooses to show it): never their "
                "date of birth, e-mail address or phone number. The staff of the mentor's institution "
                "who approve mentors, and the programme's coordinators, see the whole profile."
            ),
        ),
        (
            _("How long we keep it"),
            _(
                "As long as the mentor takes part. The mentor can delete their account at any time; "
                "an account unused for two school years is anonymised. The hours of past visits are "
                "then kept without a name, for the programme's statistics."
            ),
        ),
        (
            _("How to withdraw your consent"),
            _(
                "At any time, with the link in the e-mail we send you when you have consented. The "
                "mentor then cannot take visits until a guardian consents again, and their planned "
                "visits are cancelled."
            ),
        ),
    ]
