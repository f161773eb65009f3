"""The searchable and orderable fields of the ledger's objects: the names AMS users write in ``search`` and
``order`` (``plan.id``, ``creator.username``), each with the document path it reads and its type (which
decides how a literal is read: ``managed = 't'``).

Each document holds its AMS object (snake_case, as rendered) under one field -- ``subscription``,
``organization`` or ``account`` -- and the AMS names map into it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from aro.database.containers import LEDGER_ACCOUNT_FIELDS, LEDGER_ORGANIZATION_FIELDS, LEDGER_SUBSCRIPTION_FIELDS
from aro.database.query import Path, check_path


class FieldType(StrEnum):
    STRING = "string"
    BOOLEAN = "boolean"  # literals: 't', 'f', 'true', 'false' (quoted or not)
    TIME = "time"  # RFC 3339 strings; a literal may be a date ('2026-01-02') or a full time
    NUMBER = "number"


@dataclass(frozen=True)
class Field:
    path: Path
    type: FieldType = FieldType.STRING

    def __post_init__(self) -> None:
        check_path(self.path)


_TYPES = {
    "managed": FieldType.BOOLEAN,
    "created_at": FieldType.TIME,
    "updated_at": FieldType.TIME,
    "last_telemetry_date": FieldType.TIME,
}


def _fields(root: str, names: tuple[str, ...]) -> Mapping[str, Field]:
    return {name: Field((root, *name.split(".")), _TYPES.get(name, FieldType.STRING)) for name in names}


# Every name is also an order path of its container (``aro.database.containers``).
SUBSCRIPTION_FIELDS = _fields("subscription", LEDGER_SUBSCRIPTION_FIELDS)
ORGANIZATION_FIELDS = _fields("organization", LEDGER_ORGANIZATION_FIELDS)
ACCOUNT_FIELDS = _fields("account", LEDGER_ACCOUNT_FIELDS)


TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # every stored time: UTC, microseconds (compares as text)


def ams_time(epoch: float) -> str:
    """An epoch time as the ledger stores and renders times: ``2026-05-23T08:00:18.145764Z``."""
    import datetime as dt

    return format_time(dt.datetime.fromtimestamp(epoch, dt.UTC))


def format_time(when: datetime.datetime) -> str:
    """A UTC time as TIME_FORMAT writes it, the year always four digits (``strftime("%Y")`` writes 999 for
    the year 999 on glibc, which compares after 2026 as text)."""
    return f"{when.year:04d}-{when.strftime('%m-%dT%H:%M:%S.%f')}Z"
