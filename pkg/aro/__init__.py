"""aro: an ARM-style resource provider for managed OpenShift clusters."""

__version__ = "0.1.0"
