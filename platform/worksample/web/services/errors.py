"""Errors a service raises for a route to turn into a page or status."""


class NotFound(Exception):
    """No such thing in the caller's organisation (also for other orgs' ids)."""


class Forbidden(Exception):
    """The caller's role may not do this."""


class Invalid(Exception):
    """The input is wrong; the message is shown to the user as is."""
