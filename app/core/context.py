"""Wiring shared by the command line and the web app: settings -> engine -> sessions."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings, get_settings
from app.core.db import check_schema, make_engine, session_factory
from app.core.hashing import Hasher


@dataclass
class Context:
    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @cached_property
    def reads(self) -> sessionmaker[Session]:
        """Sessions for read-only requests: autocommit, so no BEGIN / ROLLBACK round trips
        around each request's queries (each statement reads one consistent snapshot)."""
        return session_factory(self.engine.execution_options(isolation_level="AUTOCOMMIT"))

    @cached_property
    def hasher(self) -> Hasher:
        return Hasher(self.settings.hashing_key())

    def close(self) -> None:
        """Dispose of the engine's connections if one was created."""
        if "engine" in self.__dict__:
            self.engine.dispose()

    def ready(self) -> Context:
        """Check the schema is current (raises SchemaError with the fix)."""
        check_schema(self.engine)
        return self


def default_context() -> Context:
    return Context(get_settings())
