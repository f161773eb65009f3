"""Configuration of the RP processes."""

from aro.env.config import Config, ConfigError, load

__all__ = ["Config", "ConfigError", "load"]
