"""Errors of the sandbox layer."""


class SandboxError(Exception):
    """The sandbox could not do what was asked (not: the candidate's code failed)."""


class SandboxUnavailable(SandboxError):
    """Infrastructure: no engine, no image, a container that would not start.

    Never the candidate's fault: a grading that meets it is an `error` and is
    retried, not a score.
    """


class EngineUnavailable(SandboxUnavailable):
    """No Docker engine answers."""


class ImageMissing(SandboxUnavailable):
    """No image of the current inputs exists on this engine: it must be built."""
