"""SQLAlchemy 2.0 async models, the Database, set-wise writes and the Alembic migrations.

This package's ``__init__`` stays free of SQLAlchemy: ``bot.settings`` reads the default URL
from here, so that ``baton config check`` starts without importing the database layer.
"""

from __future__ import annotations

DEFAULT_URL = "sqlite+aiosqlite:///baton.db"
