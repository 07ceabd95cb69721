"""Why a request about a referral was refused: one exception per HTTP answer.

Views and the API turn a ReferralError into its `status` with its `message`; services raise
it before changing anything.
"""

from __future__ import annotations


class ReferralError(Exception):
    """A request about a referral that cannot be done; `status` is the HTTP answer."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidReferral(ReferralError):
    """Missing or bad input: 400."""

    status = 400


class NotYourMove(ReferralError):
    """The caller is not the party who may make this move: 403."""

    status = 403


class IllegalMove(ReferralError):
    """The move is not legal from the current status: 409."""

    status = 409


class ChangedMeanwhile(ReferralError):
    """Someone else changed the referral first: 409, reload and try again."""

    status = 409
