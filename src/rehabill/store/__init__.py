"""The store: SQLAlchemy tables, mapping to and from domain values, queries, migrations.

Store functions never commit; the services' unit of work does. SQL lives only here.
"""

from rehabill.store.engine import make_engine, make_session_factory
from rehabill.store.migrate import current_revision, head_revision, migrate

__all__ = ["current_revision", "head_revision", "make_engine", "make_session_factory", "migrate"]
