"""YAML data files read with a safe loader only: libyaml's when PyYAML has it (~5x faster, the same documents)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_yaml(path: Path) -> Any:  # noqa: ANN401 - a YAML document
    """The YAML document at `path`; only plain data (no tags that construct objects) can come out."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(path.read_text(encoding="utf-8"))
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
