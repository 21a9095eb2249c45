"""Errors of the sandbox layer."""


class SandboxError(Exception):
    """The sandbox could not do what was asked (not: the candidate's code failed)."""


class EngineUnavailable(SandboxError):
    """No Docker engine answers."""
