"""The API model: the internal hub types, errors, and one package per external api-version."""
