"""Translators by name: the built-ins plus whatever other packages register in the entry point group."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from tasks.translate.base import Translator, UnknownTranslatorError

GROUP = "newsgraph.translators"
# Also declared in pyproject.toml; listed here too so a source checkout without an installed package still works.
BUILTIN = {
    "placeholder": "tasks.translate.placeholder:PlaceholderTranslator",
    "libretranslate": "tasks.translate.libretranslate:LibreTranslateTranslator",
}


def _registered() -> dict[str, list[EntryPoint]]:
    found: dict[str, list[EntryPoint]] = {
        name: [EntryPoint(name=name, value=value, group=GROUP)] for name, value in BUILTIN.items()
    }
    for ep in entry_points(group=GROUP):
        same = found.setdefault(ep.name, [])
        if all(ep.value != other.value for other in same):
            same.append(ep)
    return found


def available_translators() -> list[str]:
    """Names a run can use as `translator`, sorted."""
    return sorted(_registered())


def check_translator(name: str) -> None:
    """Raise UnknownTranslatorError (listing the available names) unless `name` is registered exactly once."""
    registered = _registered()
    if name not in registered:
        raise UnknownTranslatorError(
            f"unknown translator {name!r}; available: {', '.join(sorted(registered))} "
            f"(packages add more through the {GROUP!r} entry point group)"
        )
    if len(registered[name]) > 1:
        values = ", ".join(ep.value for ep in registered[name])
        raise UnknownTranslatorError(f"translator {name!r} is registered more than once ({values}); uninstall one")


def get_translator(name: str, options: Mapping[str, Any] | None = None) -> Translator:
    """A ready translator called `name`, built with its engine options."""
    check_translator(name)
    factory = _registered()[name][0].load()
    kwargs = dict(options or {})
    try:
        inspect.signature(factory).bind(**kwargs)
    except TypeError as exc:
        raise ValueError(f"translator {name!r} does not accept the options {sorted(kwargs)}: {exc}") from None
    translator = factory(**kwargs)
    if not isinstance(translator, Translator):
        raise TypeError(f"translator {name!r} ({factory!r}) does not implement the Translator interface")
    return translator
