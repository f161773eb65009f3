"""Fixtures of the ledger's tests: the frontend suite's ``start_rp`` (one real `aro rp` per module) and the
contract suite's local Cosmos DB server."""

from __future__ import annotations

from tests.database.conftest import cosmos_server, pytest_terminal_summary
from tests.frontend.conftest import start_rp

__all__ = ["cosmos_server", "pytest_terminal_summary", "start_rp"]
