"""The RegexFeaturizer's patterns are compiled once, not whenever they have dropped out of
`re`'s process-wide cache.

The featurizer calls `re.finditer(pattern, text)` for every lookup table on every message and
relies on `re`'s own cache of 512 compiled patterns. That cache is shared by the whole process
and was full here, so the tables' patterns (the catalog's names, one of them 44 KB) were
compiled again on many messages: 3% of Rasa's CPU, and up to a few hundred ms for the message
that recompiled the largest. The featurizer's module gets a `re` whose `finditer` keeps them.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from typing import Any

from bot.patches import base

NAME = "compiled_regex"
REGEX_FEATURIZER_MODULE = "rasa.nlu.featurizers.sparse_featurizer.regex_featurizer"
EXPECTED = (
    base.Exists(f"{REGEX_FEATURIZER_MODULE}:re"),
    # the only use of `re` in the module: the finditer per pattern and message
    base.Contains(
        f"{REGEX_FEATURIZER_MODULE}:RegexFeaturizer._features_for_patterns",
        snippets=('re.finditer(pattern["pattern"], message.get(attribute), flags=flags)',),
    ),
)


class CompiledPatterns:
    """The `re` module for Rasa's RegexFeaturizer, its patterns compiled once and kept."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, int], re.Pattern[str]] = {}

    def finditer(self, pattern: str, string: str, flags: int = 0) -> Iterator[re.Match[str]]:
        key = (pattern, int(flags))
        compiled = self._compiled.get(key)
        if compiled is None:
            if len(self._compiled) >= 4096:  # the patterns are the model's, a few dozen
                self._compiled.clear()
            compiled = self._compiled[key] = re.compile(pattern, flags)
        return compiled.finditer(string)

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)


def check() -> None:
    base.check(NAME, EXPECTED)
    module = importlib.import_module(REGEX_FEATURIZER_MODULE)
    if base.original(module, "re") is not re:
        raise base.PatchMismatch(NAME, f"{REGEX_FEATURIZER_MODULE}.re to be the re module")


def apply() -> None:
    base.replace(importlib.import_module(REGEX_FEATURIZER_MODULE), "re", CompiledPatterns())
