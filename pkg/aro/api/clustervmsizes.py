"""The VM sizes a classic cluster may use, per role (ARO-RP's ``pkg/api/validate/vm.go``: the sizes of the
public support policy), and the sizes that need a minimum OpenShift version.

One deliberate difference: ARO-RP spells the worker size ``Standard_D16lds_v6`` as ``Standard_D1l6ds_v6``
(a typo in its constant), so it refuses the real size; here it is spelt as Azure spells it.
"""

from __future__ import annotations

import re
from enum import Enum

MASTER, WORKER = "master", "worker"

MASTER_SIZES = frozenset(
    """
Standard_D8s_v3 Standard_D16s_v3 Standard_D32s_v3 Standard_D8s_v4 Standard_D16s_v4 Standard_D32s_v4
Standard_D8s_v5 Standard_D16s_v5 Standard_D32s_v5 Standard_D8as_v4 Standard_D16as_v4 Standard_D32as_v4
Standard_D8as_v5 Standard_D16as_v5 Standard_D32as_v5 Standard_D8ds_v5 Standard_D16ds_v5 Standard_D32ds_v5
Standard_E8s_v3 Standard_E16s_v3 Standard_E32s_v3 Standard_E8s_v4 Standard_E16s_v4 Standard_E20s_v4
Standard_E32s_v4 Standard_E48s_v4 Standard_E64s_v4 Standard_E8s_v5 Standard_E16s_v5 Standard_E20s_v5
Standard_E32s_v5 Standard_E48s_v5 Standard_E64s_v5 Standard_E96s_v5 Standard_E4as_v4 Standard_E8as_v4
Standard_E16as_v4 Standard_E20as_v4 Standard_E32as_v4 Standard_E48as_v4 Standard_E64as_v4 Standard_E96as_v4
Standard_E8as_v5 Standard_E16as_v5 Standard_E20as_v5 Standard_E32as_v5 Standard_E48as_v5 Standard_E64as_v5
Standard_E96as_v5 Standard_E64is_v3 Standard_E80is_v4 Standard_E80ids_v4 Standard_E104is_v5
Standard_E104ids_v5 Standard_F72s_v2 Standard_M128ms Standard_D4s_v6 Standard_D8s_v6 Standard_D16s_v6
Standard_D32s_v6 Standard_D48s_v6 Standard_D64s_v6 Standard_D96s_v6 Standard_D4ds_v6 Standard_D8ds_v6
Standard_D16ds_v6 Standard_D32ds_v6 Standard_D48ds_v6 Standard_D64ds_v6 Standard_D96ds_v6
""".split()
)

WORKER_SIZES = frozenset(
    """
Standard_D4s_v3 Standard_D8s_v3 Standard_D16s_v3 Standard_D32s_v3 Standard_D4s_v4 Standard_D8s_v4
Standard_D16s_v4 Standard_D32s_v4 Standard_D64s_v4 Standard_D4s_v5 Standard_D8s_v5 Standard_D16s_v5
Standard_D32s_v5 Standard_D64s_v5 Standard_D96s_v5 Standard_D4as_v4 Standard_D8as_v4 Standard_D16as_v4
Standard_D32as_v4 Standard_D64as_v4 Standard_D96as_v4 Standard_D4as_v5 Standard_D8as_v5 Standard_D16as_v5
Standard_D32as_v5 Standard_D64as_v5 Standard_D96as_v5 Standard_D4ds_v5 Standard_D8ds_v5 Standard_D16ds_v5
Standard_D32ds_v5 Standard_D48ds_v5 Standard_D64ds_v5 Standard_D96ds_v5 Standard_E4s_v3 Standard_E8s_v3
Standard_E16s_v3 Standard_E32s_v3 Standard_E2s_v4 Standard_E4s_v4 Standard_E8s_v4 Standard_E16s_v4
Standard_E20s_v4 Standard_E32s_v4 Standard_E48s_v4 Standard_E64s_v4 Standard_E2s_v5 Standard_E4s_v5
Standard_E8s_v5 Standard_E16s_v5 Standard_E20s_v5 Standard_E32s_v5 Standard_E48s_v5 Standard_E64s_v5
Standard_E96s_v5 Standard_E4as_v4 Standard_E8as_v4 Standard_E16as_v4 Standard_E20as_v4 Standard_E32as_v4
Standard_E48as_v4 Standard_E64as_v4 Standard_E96as_v4 Standard_E8as_v5 Standard_E16as_v5 Standard_E20as_v5
Standard_E32as_v5 Standard_E48as_v5 Standard_E64as_v5 Standard_E96as_v5 Standard_E64is_v3 Standard_E80is_v4
Standard_E80ids_v4 Standard_E96ds_v5 Standard_E104is_v5 Standard_E104ids_v5 Standard_F4s_v2 Standard_F8s_v2
Standard_F16s_v2 Standard_F32s_v2 Standard_F72s_v2 Standard_M128ms Standard_L4s Standard_L8s Standard_L16s
Standard_L32s Standard_L8s_v2 Standard_L16s_v2 Standard_L32s_v2 Standard_L48s_v2 Standard_L64s_v2
Standard_L8s_v3 Standard_L16s_v3 Standard_L32s_v3 Standard_L48s_v3 Standard_L64s_v3 Standard_L4s_v4
Standard_L8s_v4 Standard_L16s_v4 Standard_L32s_v4 Standard_L48s_v4 Standard_L64s_v4 Standard_L80s_v4
Standard_NC4as_T4_v3 Standard_NC8as_T4_v3 Standard_NC16as_T4_v3 Standard_NC64as_T4_v3 Standard_NC6s_v3
Standard_NC12s_v3 Standard_NC24s_v3 Standard_NC24rs_v3 Standard_D4s_v6 Standard_D8s_v6 Standard_D16s_v6
Standard_D32s_v6 Standard_D48s_v6 Standard_D64s_v6 Standard_D96s_v6 Standard_D4ds_v6 Standard_D8ds_v6
Standard_D16ds_v6 Standard_D32ds_v6 Standard_D48ds_v6 Standard_D64ds_v6 Standard_D96ds_v6 Standard_D4ls_v6
Standard_D8ls_v6 Standard_D16ls_v6 Standard_D32ls_v6 Standard_D48ls_v6 Standard_D64ls_v6 Standard_D96ls_v6
Standard_D4lds_v6 Standard_D8lds_v6 Standard_D16lds_v6 Standard_D32lds_v6 Standard_D48lds_v6
Standard_D64lds_v6 Standard_D96lds_v6
""".split()
)

# Sizes that need at least OpenShift 4.19, per role.
_V6 = (4, 19, 0)
MASTER_MIN_VERSION = dict.fromkeys(
    """
Standard_D4s_v6 Standard_D8s_v6 Standard_D16s_v6 Standard_D32s_v6 Standard_D48s_v6 Standard_D64s_v6
Standard_D96s_v6 Standard_D4ds_v6 Standard_D8ds_v6 Standard_D16ds_v6 Standard_D32ds_v6 Standard_D48ds_v6
Standard_D64ds_v6 Standard_D96ds_v6
""".split(),
    _V6,
)
WORKER_MIN_VERSION = dict.fromkeys(
    """
Standard_D4s_v6 Standard_D8s_v6 Standard_D16s_v6 Standard_D32s_v6 Standard_D48s_v6 Standard_D64s_v6
Standard_D96s_v6 Standard_D4ds_v6 Standard_D8ds_v6 Standard_D16ds_v6 Standard_D32ds_v6 Standard_D48ds_v6
Standard_D64ds_v6 Standard_D96ds_v6 Standard_D4ls_v6 Standard_D8ls_v6 Standard_D16ls_v6 Standard_D32ls_v6
Standard_D48ls_v6 Standard_D64ls_v6 Standard_D96ls_v6 Standard_D4lds_v6 Standard_D8lds_v6 Standard_D16lds_v6
Standard_D32lds_v6 Standard_D48lds_v6 Standard_D64lds_v6 Standard_D96lds_v6 Standard_L4s_v4 Standard_L8s_v4
Standard_L16s_v4 Standard_L32s_v4 Standard_L48s_v4 Standard_L64s_v4 Standard_L80s_v4
""".split(),
    _V6,
)

_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)")


class Validity(Enum):
    OK = "ok"
    NOT_FOR_ROLE = "not supported for the role"
    NOT_IN_VERSION = "not supported in the version"


def vm_size_validity(size: str, role: str, version: str) -> Validity:
    """Whether ``size`` (exact spelling, as ARO-RP compares it) may serve ``role`` in a cluster of ``version``;
    a version that does not parse is not held against the size (as in ARO-RP)."""
    sizes, minimum = (MASTER_SIZES, MASTER_MIN_VERSION) if role == MASTER else (WORKER_SIZES, WORKER_MIN_VERSION)
    if size not in sizes:
        return Validity.NOT_FOR_ROLE
    m = _VERSION.match(version)
    needed = minimum.get(size)
    if m and needed is not None and tuple(int(g) for g in m.groups()) < needed:
        return Validity.NOT_IN_VERSION
    return Validity.OK
