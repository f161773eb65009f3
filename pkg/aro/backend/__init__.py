"""The backend: a leasing worker pool that carries every non-terminal document to a terminal state."""
