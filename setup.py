"""Package layout: the library is pkg/aro (import name `aro`); cmd/aro_cmd holds the thin process entry points,
installed as `aro_cmd` because `cmd` is already a standard-library module."""

from setuptools import find_packages, setup

setup(
    package_dir={"": "pkg", "aro_cmd": "cmd/aro_cmd"},
    packages=[*find_packages("pkg"), "aro_cmd"],
)
