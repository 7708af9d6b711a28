"""The gateway's own database: SQLite (embedded default) or PostgreSQL, through SQLAlchemy."""

from adapters.store.database import Store, open_store

__all__ = ["Store", "open_store"]
