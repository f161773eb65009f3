"""Cluster operations as plain lists of named steps (pure orchestration over the cloud boundary)."""
