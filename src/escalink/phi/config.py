"""Detector configuration: which recognizers run, their thresholds, the organisation's allow-list."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

SHIPPED_CONFIG_NAME = "phi.yaml"


class RecognizerConfig(BaseModel):
    """Settings of one recognizer; `options` are passed to it as they are."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    options: dict[str, Any] = Field(default_factory=dict)


class PhiConfig(BaseModel):
    """The whole `phi.yaml`."""

    model_config = ConfigDict(extra="forbid")

    threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    # Staff, product, vendor and customer names that are never PHI; matched case-insensitively
    # as whole words and masked before any recognizer runs.
    allow_list: list[str] = Field(default_factory=list)
    recognizers: dict[str, RecognizerConfig] = Field(default_factory=dict)

    def recognizer(self, name: str) -> RecognizerConfig:
        return self.recognizers.get(name, RecognizerConfig())

    def threshold_for(self, name: str) -> float:
        own = self.recognizer(name).threshold
        return self.threshold if own is None else own


def load_config(path: str | Path | None = None) -> PhiConfig:
    """Read a configuration file, or the shipped one when `path` is None."""
    if path is None:
        raw = resources.files("escalink.phi").joinpath(SHIPPED_CONFIG_NAME).read_text(encoding="utf-8")
    else:
        raw = Path(path).read_text(encoding="utf-8")
    return PhiConfig.model_validate(yaml.safe_load(raw) or {})
