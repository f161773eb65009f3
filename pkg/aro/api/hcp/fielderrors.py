"""ARO-HCP's field errors: every rule of a request is checked and all failures are reported together.

One failure is that error (400 ``InvalidRequestContent``, ``target`` the JSON path); several are one 400
``MultipleErrorsOccurred`` ("Content validation failed on multiple fields") with the errors as ``details``.
"""

from __future__ import annotations

from aro.api.errors import INVALID_REQUEST_CONTENT, MULTIPLE_ERRORS_OCCURRED, CloudError

MULTIPLE_ERRORS_MESSAGE = "Content validation failed on multiple fields"


class FieldErrors:
    def __init__(self) -> None:
        self.errors: list[CloudError] = []

    def add(self, target: str, message: str) -> None:
        """``message`` says what is wrong ("must be at least 4.20"); the error names the field."""
        self.errors.append(
            CloudError(400, INVALID_REQUEST_CONTENT, f"Invalid value for '{target}': {message}.", target)
        )

    def invalid(self, target: str, value: object, reason: str) -> None:
        shown = str(value)
        shown = shown if len(shown) <= 120 else shown[:117] + "..."
        self.errors.append(
            CloudError(400, INVALID_REQUEST_CONTENT, f"Invalid value '{shown}' for '{target}': {reason}.", target)
        )

    def message(self, target: str | None, message: str) -> None:
        """An error worded in full by the caller."""
        self.errors.append(CloudError(400, INVALID_REQUEST_CONTENT, message, target))

    def required(self, target: str) -> None:
        self.errors.append(CloudError(400, INVALID_REQUEST_CONTENT, f"Missing required field '{target}'.", target))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        if len(self.errors) == 1:
            raise self.errors[0]
        raise CloudError(400, MULTIPLE_ERRORS_OCCURRED, MULTIPLE_ERRORS_MESSAGE, None, list(self.errors))
