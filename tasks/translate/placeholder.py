"""The default translator: no machine translation, so nothing is ever invented."""

from __future__ import annotations

from collections.abc import Sequence

from tasks.translate.base import TranslatorError


class PlaceholderTranslator:
    """Translates nothing: English sources are copied by the step, every other row stays pending."""

    name = "placeholder"
    version = "1"

    def supports(self, source: str, target: str) -> bool:
        """Never: rows in another language than the target wait for a real translator."""
        del source, target
        return False

    def translate(self, texts: Sequence[str], *, source: str, target: str) -> list[str]:
        """Refuses; the step never calls it because `supports` is always False."""
        del texts
        raise TranslatorError(f"the placeholder translator does not translate {source} -> {target}", fatal=True)
