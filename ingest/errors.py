"""The project's exceptions. CLIs and the web app turn them into one-line messages."""


class ZhengceError(Exception):
    """Base class: anything a user can be told about in one sentence."""

    exit_code = 1


class UsageError(ZhengceError):
    """The request itself is malformed (empty question, unknown region, bad flag)."""

    exit_code = 2


class BadDocumentError(ZhengceError):
    """A file cannot be ingested (binary, empty, unknown type, undecodable)."""


class IndexMissingError(ZhengceError):
    """No usable index: it was never built, or it is corrupted."""


class EmbedderError(ZhengceError):
    """The embedding backend could not be loaded."""


class ToolInputError(ZhengceError):
    """A calculator got an input outside its range (negative years, 0 teachers …)."""

    exit_code = 2


class SettingsError(UsageError):
    """An environment variable holds a value the program cannot use (CHROMA_PORT=abc)."""


class VectorStoreUnavailable(ZhengceError):
    """The Chroma server cannot be reached: searches degrade to BM25, writes are refused."""
