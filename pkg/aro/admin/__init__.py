"""Operator tools that read the store directly (used by `aro admin` and hack/ scripts)."""
