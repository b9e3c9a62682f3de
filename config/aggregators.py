"""Each registered aggregator's own settings, read from its `GATEWAY_<NAME>_*` variables by one
loader over the fields its Config declares (gateway.aggregators.base.setting), and checked at
start-up with errors naming the variable."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import get_type_hints
from urllib.parse import urlparse

from gateway.aggregators.base import Aggregator, AggregatorConfig, env_var
from gateway.errors import ConfigError

MAX_TPS = 100000


def registry() -> dict[str, Aggregator]:
    """The aggregator registry (imported late: aggregators import modules that import config)."""
    from gateway.aggregators import REGISTRY

    return REGISTRY


def is_http_url(url: str) -> bool:
    """An absolute http(s) URL with a host."""
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _convert(raw: str, to: type, var: str):
    try:
        return to(raw)
    except ValueError:
        raise ConfigError(f"{var}={raw!r} is not a valid {to.__name__}") from None


def load_config(aggregator: Aggregator, lookup: Callable[[str], str | None]) -> AggregatorConfig:
    """The aggregator's Config from its variables (`lookup(var)`: the value or None); fields
    whose variable is not set keep their defaults. Shared fields are filled by `bind`."""
    types = get_type_hints(aggregator.Config)
    values = {}
    for f in dataclasses.fields(aggregator.Config):
        if "shared" in f.metadata:
            continue
        var = env_var(aggregator.name, f)
        raw = lookup(var)
        if raw is not None:
            values[f.name] = _convert(raw.strip(), types[f.name], var)
    return aggregator.Config(**values)


def load_all(lookup: Callable[[str], str | None]) -> dict[str, AggregatorConfig]:
    """Every registered aggregator's Config, by name."""
    return {name: load_config(agg, lookup) for name, agg in registry().items()}


def bind(configs: Mapping[str, AggregatorConfig], shared: Mapping[str, str]) -> dict[str, AggregatorConfig]:
    """The configs with their shared fields (public_url, inbound_token) set from `shared`;
    a registered aggregator without a config gets its defaults."""
    out = {}
    for name, agg in registry().items():
        config = configs.get(name) or agg.Config()
        wanted = {
            f.name: shared[f.metadata["shared"]] for f in dataclasses.fields(config) if "shared" in f.metadata
        }
        out[name] = dataclasses.replace(config, **wanted)
    return out


def check(aggregator: Aggregator, config: AggregatorConfig, outbound: bool) -> None:
    """Raise ConfigError naming the first bad variable: the aggregator's own rules, then
    each field (required when it sends MT, an http(s) URL when set, the TPS range)."""
    aggregator.check_config(config, outbound)
    for f in dataclasses.fields(config):
        if "shared" in f.metadata:
            continue
        var, value = env_var(aggregator.name, f), getattr(config, f.name)
        if f.metadata.get("required") and outbound and (value == "" or value is None):
            raise ConfigError(f"{var}: must be set (GATEWAY_OUTBOUND={aggregator.name})")
        if f.metadata.get("url") and value and not is_http_url(value):
            raise ConfigError(f"{var}: must be an http(s) URL")
    if not 0 <= config.tps <= MAX_TPS:
        raise ConfigError(
            f"{aggregator.env('tps')}: must be between 0 (no cap) and {MAX_TPS} sends per second"
        )


def variables(name: str, config: AggregatorConfig) -> dict[str, str]:
    """The aggregator's variables and values as they may be shown (secrets as `***` when
    set), for operators and logs."""
    shown = {}
    for f in dataclasses.fields(config):
        if "shared" in f.metadata:
            continue
        value = getattr(config, f.name)
        shown[env_var(name, f)] = "***" if f.metadata.get("secret") and value else str(value)
    return shown
