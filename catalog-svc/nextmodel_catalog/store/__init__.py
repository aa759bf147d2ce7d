"""Catalog storage: one interface, SQLAlchemy behind it (SQLite embedded, PostgreSQL in production)."""

from nextmodel_catalog.store.base import CatalogStore
from nextmodel_catalog.store.sql import SqlCatalogStore

__all__ = ["CatalogStore", "SqlCatalogStore"]
