"""Billing storage: one interface, SQLAlchemy behind it (SQLite embedded, PostgreSQL in production)."""

from nextmodel_billing.store.base import BillingStore, KeyRecord
from nextmodel_billing.store.sql import SqlBillingStore

__all__ = ["BillingStore", "KeyRecord", "SqlBillingStore"]
