"""hydrascope service: ingest, storage, detection runs and the HTTP API around ``graph``."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hydrascope")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+src"
