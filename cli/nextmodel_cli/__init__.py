"""The `nextmodel` command: local supervisor today; admin operations as billing grows."""
