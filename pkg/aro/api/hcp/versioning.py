"""OpenShift version arithmetic for hosted clusters, in one place: parsing, the channel groups, the
experimental-release AFEC, and the skew rules between control planes and node pools (ARO-HCP's
``metadataapi`` and ``validators.go``). Day-2 upgrade rules build on these helpers.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

# The AFEC that lifts the version limits (lower-case, as ``ValidationContext.features`` holds it).
EXPERIMENTAL_RELEASE_FEATURES = "microsoft.redhatopenshift/experimentalreleasefeatures"

CHANNEL_GROUPS = ("stable", "fast")
EXPERIMENTAL_CHANNEL_GROUPS = ("stable", "fast", "candidate", "nightly")

MIN_CLUSTER_VERSION = "4.20"  # without the AFEC
MIN_NODE_POOL_VERSION = "4.20.8"  # without the AFEC
MAX_NODE_POOL_MINOR_SKEW = 2

# Cross-major control-plane upgrades: from release line -> the only line it may move to.
MAJOR_UPGRADE_PATHS = {"4.22": "5.0", "4.23": "5.1"}
# A node pool's release line -> the control-plane lines of another major it may run with.
CONTROL_PLANE_NODE_POOL_MAJOR_SKEW = {"4.21": ("5.0",), "4.22": ("5.0", "5.1"), "4.23": ("5.1", "5.2")}

_SEMVER = re.compile(
    r"^(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<pre>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\Z"
)
_MINOR = re.compile(r"^(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\Z")


@dataclass(frozen=True)
class Version:
    """A parsed OpenShift version; ordered by semantic-version precedence (a pre-release sorts first)."""

    major: int
    minor: int
    patch: int = 0
    pre: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        """The release line ``X.Y``."""
        return f"{self.major}.{self.minor}"

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        pre = tuple((0, int(p)) if p.isdigit() else (1, p) for p in self.pre)
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __le__(self, other: Version) -> bool:
        return self._key() <= other._key()

    def __gt__(self, other: Version) -> bool:
        return self._key() > other._key()

    def __ge__(self, other: Version) -> bool:
        return self._key() >= other._key()


MIN_CLUSTER = Version(4, 20)
MIN_NODE_POOL = Version(4, 20, 8)


def parse_full(text: str) -> Version | None:
    """``X.Y.Z`` with an optional pre-release (``4.23.0-rc.2``); anything else is None."""
    m = _SEMVER.match(text)
    if not m:
        return None
    pre = tuple(m["pre"].split(".")) if m["pre"] else ()
    return Version(int(m["major"]), int(m["minor"]), int(m["patch"]), pre)


def parse_minor(text: str) -> Version | None:
    """``X.Y`` only."""
    m = _MINOR.match(text)
    return Version(int(m["major"]), int(m["minor"])) if m else None


def parse_any(text: str) -> Version | None:
    """``X.Y`` or a full version."""
    return parse_minor(text) or parse_full(text)


def experimental(features: Collection[str]) -> bool:
    return EXPERIMENTAL_RELEASE_FEATURES in features


def channel_groups(features: Collection[str]) -> tuple[str, ...]:
    return EXPERIMENTAL_CHANNEL_GROUPS if experimental(features) else CHANNEL_GROUPS


def line_key(v: Version) -> tuple[int, int]:
    return (v.major, v.minor)


def cluster_upgrade_error(old: Version, new: Version) -> str | None:
    """Why a control plane may not move from ``old`` to ``new`` (None: it may): never down, at most the next
    minor, across a major only along ``MAJOR_UPGRADE_PATHS``."""
    if line_key(new) < line_key(old) or (line_key(new) == line_key(old) and new < old):
        return f"may not decrease from {_show(old)}"
    if new.major != old.major:
        allowed = MAJOR_UPGRADE_PATHS.get(old.line)
        if new.major != old.major + 1 or new.line != allowed:
            target = f"only to {allowed}" if allowed else "not supported"
            return f"an upgrade from {old.line} to {new.line} across majors is {target}"
        return None
    if new.minor > old.minor + 1:
        return f"only an upgrade to the next minor is allowed: expected {old.major}.{old.minor + 1} after {old.line}"
    return None


def node_pool_skew_error(node_pool: Version, lowest_cp: Version, highest_cp: Version, allow_major: bool) -> str | None:
    """Why a node pool may not run ``node_pool`` under a control plane whose active versions span
    ``lowest_cp``..``highest_cp`` (None: it may): its line never above the lowest control plane's, within
    ``MAX_NODE_POOL_MINOR_SKEW`` minors of the highest, another major only with the AFEC and the skew map."""
    if line_key(node_pool) > line_key(lowest_cp):
        return f"must not exceed the control plane version {lowest_cp.line}"
    if node_pool.major != highest_cp.major:
        if not allow_major:
            return f"must be of the control plane's major version {highest_cp.major}"
        if highest_cp.line not in CONTROL_PLANE_NODE_POOL_MAJOR_SKEW.get(node_pool.line, ()):
            return f"cannot run with control plane version {highest_cp.line}"
        return None
    if highest_cp.minor - node_pool.minor > MAX_NODE_POOL_MINOR_SKEW:
        return (
            f"must be within {MAX_NODE_POOL_MINOR_SKEW} minor versions of the control plane version {highest_cp.line}"
        )
    return None


def node_pool_upgrade_error(old: Version, new: Version, allow_major: bool) -> str | None:
    """Why a node pool may not move from ``old`` (its lowest active version) to ``new`` (None: it may):
    never down (a higher z-stream of the same line is fine), at most ``MAX_NODE_POOL_MINOR_SKEW`` minors
    at once, across a major only with the AFEC and along ``MAJOR_UPGRADE_PATHS`` (ARO-HCP's
    ``ValidateNodePoolVersionChange``)."""
    if new < old:
        return f"may not decrease from {full_version(old)}"
    path = f"invalid upgrade path from {full_version(old)} to {full_version(new)}"
    if new.major != old.major:
        allowed = MAJOR_UPGRADE_PATHS.get(old.line)
        if not allow_major or allowed is None:
            return f"{path}: major version upgrades are not supported"
        if new.line != allowed:
            return f"{path}: {old.line} can only upgrade to {allowed}"
        return None
    if new.minor - old.minor > MAX_NODE_POOL_MINOR_SKEW:
        return f"{path}: skipping more than {MAX_NODE_POOL_MINOR_SKEW} minor versions is not allowed"
    return None


def _show(v: Version) -> str:
    text = f"{v.major}.{v.minor}.{v.patch}" if v.patch or v.pre else v.line
    return text + ("-" + ".".join(v.pre) if v.pre else "")


def full_version(v: Version) -> str:
    """``X.Y.Z`` (with its pre-release)."""
    return f"{v.major}.{v.minor}.{v.patch}" + ("-" + ".".join(v.pre) if v.pre else "")
