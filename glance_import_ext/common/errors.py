"""Errors a plugin raises to fail an import with a message for the operator.

Glance copies the text of an ``UploadException`` into the task message;
any other exception becomes "Task failed due to Internal Error". So every
failure a plugin means to report derives from it. Outside Glance (config
generation, docs) the base is a plain Exception.
"""

try:
    from glance.common.exception import UploadException as _GlanceFailure
except ImportError:  # pragma: no cover - only outside a Glance environment
    _GlanceFailure = Exception


class ImportFailed(_GlanceFailure):
    """The import cannot go on; ``str()`` is the task message."""

    def __init__(self, plugin, message):
        self.msg = '%s: %s' % (plugin, message)
        # GlanceException formats with kwargs only; none are given here.
        super().__init__(self.msg)
        self.args = (plugin, message)  # so copy and pickle rebuild it

    def __str__(self):
        return self.msg


class ConfigError(ValueError):
    """An option of this library has a value it cannot work with."""
