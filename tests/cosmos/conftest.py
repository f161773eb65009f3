"""Cosmos DB tests share the local server of the contract suite (one per run)."""

from tests.database.conftest import cosmos_server, pytest_terminal_summary

__all__ = ["cosmos_server", "pytest_terminal_summary"]
