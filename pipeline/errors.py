"""Fatal errors: the few conditions that stop a command (bad input data never raises)."""


class PipelineError(Exception):
    """A fatal condition, carrying one Chinese line for the user."""


class ConfigError(PipelineError):
    """The configuration folder cannot be loaded."""


class InboxError(PipelineError):
    """The inbox folder is missing or unreadable."""


class MailError(PipelineError):
    """The mailbox cannot be reached or used."""


class StoreError(PipelineError):
    """The history database or a unit package cannot be used."""
