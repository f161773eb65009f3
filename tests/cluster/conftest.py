"""Fixtures of the classic-cluster tests: the frontend suite's ``start_rp`` (one real `aro rp` per module)."""

from __future__ import annotations

from tests.frontend.conftest import arm, rp, start_rp

__all__ = ["arm", "rp", "start_rp"]
