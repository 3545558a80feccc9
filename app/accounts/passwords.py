"""What a new password must be (NIST SP 800-63B): long enough, and not easy to guess — not a
common password, a repetition or a keyboard row, nor made of the person's own e-mail address or
name. zxcvbn (Dropbox's estimator) knows the common passwords and patterns; it is told the
person's details and the portal's own words, which a guesser would try first."""

from zxcvbn import zxcvbn

from app.errors import InvalidInput
from app.i18n import _

# zxcvbn's scores run 0-4; 0 and 1 fall to an online guesser within hours (its documentation).
LEAST_SCORE = 2
PORTAL_WORDS = ["stem", "portal", "stemportalen", "region", "midtjylland", "adgangskode", "kodeord"]


def check_new_password(password: str, *, email: str, name: str, field: str) -> None:
    context = [email, *email.split("@"), *name.split(), *PORTAL_WORDS]
    # zxcvbn's work grows with the length; beyond a hundred characters nobody guesses.
    if zxcvbn(password[:100], user_inputs=context)["score"] < LEAST_SCORE:
        raise InvalidInput(
            _(
                "Choose a password that is harder to guess: not a common password, a repetition "
                "or a row of the keyboard, and not your e-mail address or name. A few words of "
                "your own make a good one."
            ),
            field=field,
        )
