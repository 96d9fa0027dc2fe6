"""The one home of configuration: the sections, the validator, the loader and the docs.

- engine: YAML -> frozen dataclasses, every error with its key and line
- loading: AppConfig, config.yaml, environment and command-line overrides (one validator)
- doc: the commented default config.yaml
- command: `smilebooth validate-config` and `--config`
- perception, decide, source, output, mqtt: the sections, grouped by stage
"""

from edge.config.engine import ConfigError
from edge.config.loading import (
    ENV_OVERRIDES,
    AppConfig,
    apply_overrides,
    config_digest,
    default_config,
    load_config,
)

__all__ = [
    "ENV_OVERRIDES",
    "AppConfig",
    "ConfigError",
    "apply_overrides",
    "config_digest",
    "default_config",
    "load_config",
]
