"""The ARM frontend (FastAPI)."""
