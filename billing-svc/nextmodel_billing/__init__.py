"""billing-svc: teams, projects, API keys, the usage ledger and receipts."""
