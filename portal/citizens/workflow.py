"""The statuses a citizen's request goes through, and which a clerk may move it to from each."""

from __future__ import annotations

from ..labels import N_

STATUSES = ("received", "searching", "needs_info", "found", "not_found", "awaiting_payment", "paid", "ready",
            "delivered", "refused")
FINAL = frozenset({"not_found", "delivered", "refused"})  # the request is closed
# Moves a clerk makes with a button; delivering (found/paid -> ready/delivered) has its own action, and a
# citizen's answer takes a request out of needs_info.
NEXT = {
    "received": ("searching", "needs_info", "refused"),
    "searching": ("found", "not_found", "needs_info", "refused"),
    "needs_info": ("searching", "refused"),
    "found": ("awaiting_payment", "needs_info", "refused"),
    "awaiting_payment": ("paid", "refused"),
    "paid": ("refused",),
    "ready": ("delivered",),
}
NEEDS_MESSAGE = frozenset({"needs_info", "not_found", "refused"})  # the citizen is told why
DELIVERABLE = frozenset({"found", "paid"})


class ActionRefused(Exception):
    """A clerk's action that the request's state does not allow; `message` is a message id, `values` fill it."""

    def __init__(self, message: str, **values):
        self.message = message
        self.values = values
        super().__init__(message % values if values else message)


class Throttled(Exception):
    """Too many submissions or wrong tracking codes from one address: wait."""

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many attempts; try again in {retry_after} s")


class Gone(Exception):
    """A download link that expired or was used up."""


# Messages of ActionRefused (marked here so Babel extracts them).
REFUSALS = (
    N_("This request cannot go from “%(current)s” to “%(wanted)s”."),
    N_("Write the reason or the question for the citizen."),
    N_("Link at least one record first."),
    N_("This service has no fee."),
    N_("The fee has not been paid yet."),
    N_("Confirm the redactions of every linked record first."),
    N_("Delivery refused: %(reason)s"),
    N_("The box must lie inside the page."),
    N_("This request is closed."),
)
