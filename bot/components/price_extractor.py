"""Rasa 3.6 entity extractor for Chinese price wishes ("三千以内", "2k到3k", "五百块左右").

Place it after DIETClassifier in the pipeline. It adds `price` entities whose role is
`min`, `max` or `around` and whose value is a plain number string ("3000"), and drops
`price` entities of other extractors on the same text, so the actions always get
numbers they can filter on. The rules live in cn_text/prices.py (standard library only),
which the action server, the web app and the unit tests use as well.

A number right after a brand or model-line name is a model number unless a price cue says
otherwise ("荣耀400"). The names are the catalog's, read when the component is made from
`names_path`, the file `daogou bot prepare` exports (var/bot/lexicon/names.tsv, written into
the training configuration) and rewrites at every start. Without the file prices are read
without names, with a warning: the server still starts.

Reference it as `bot.components.price_extractor.ChinesePriceExtractor`, with the repository
root on PYTHONPATH (daogou starts Rasa so).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_ROLE,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from cn_text.prices import (
    NO_NAMES,
    NameWords,
    PriceConstraint,
    extract_prices,
    format_price_value,
    price_roles,
)

PRICE_ENTITY = "price"
CONFIDENCE_KEY = "confidence_entity"  # the key DIETClassifier uses for entity confidence
OVERLAPPING = "overlapping"
ALL = "all"

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class ChinesePriceExtractor(GraphComponent, EntityExtractorMixin):
    """Finds price constraints with rules and makes them the only `price` entities."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # "overlapping": drop other extractors' price entities that overlap ours (default);
            # "all": drop every price entity not produced here.
            "remove_other_price_entities": OVERLAPPING,
            # The catalog's names lexicon (cn_text/lexicon.py); daogou's config sets it.
            "names_path": None,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}
        mode = self._config["remove_other_price_entities"]
        if mode not in (OVERLAPPING, ALL):
            raise ValueError(
                f"remove_other_price_entities must be '{OVERLAPPING}' or '{ALL}', not {mode!r}"
            )
        self._remove_mode = mode
        self._names = self._load_names(self._config["names_path"])

    @staticmethod
    def _load_names(path: str | None) -> NameWords:
        names = NameWords.read(path) if path else None
        if names is None:
            logger.warning(
                "no catalog names at %r (written by `daogou bot prepare`): prices are read "
                "without brand and model-line names",
                path,
            )
            return NO_NAMES
        return names

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ChinesePriceExtractor:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._process_message(message)
        return messages

    def _process_message(self, message: Message) -> None:
        text = message.get(TEXT)
        if not text:
            return
        ours = [
            entity
            for constraint in extract_prices(text, self._names)
            for entity in price_entities(constraint, self.name)
        ]
        others = message.get(ENTITIES, [])
        kept = [entity for entity in others if not self._replaced_by(entity, ours)]
        if ours or len(kept) != len(others):
            message.set(ENTITIES, kept + ours, add_to_output=True)

    def _replaced_by(self, entity: dict[str, Any], ours: list[dict[str, Any]]) -> bool:
        if entity.get(ENTITY_ATTRIBUTE_TYPE) != PRICE_ENTITY:
            return False
        if entity.get(EXTRACTOR) == self.name:
            return False
        if self._remove_mode == ALL:
            return True
        return any(_overlaps(entity, own) for own in ours)


def price_entities(constraint: PriceConstraint, extractor: str) -> list[dict[str, Any]]:
    """One entity per role; a range gives a `min` and a `max` entity over the same span."""
    return [
        {
            ENTITY_ATTRIBUTE_TYPE: PRICE_ENTITY,
            ENTITY_ATTRIBUTE_ROLE: role,
            ENTITY_ATTRIBUTE_VALUE: format_price_value(value),
            ENTITY_ATTRIBUTE_START: constraint.start,
            ENTITY_ATTRIBUTE_END: constraint.end,
            EXTRACTOR: extractor,
            CONFIDENCE_KEY: 1.0,
        }
        for role, value in price_roles(constraint)
    ]


def _overlaps(first: dict[str, Any], second: dict[str, Any]) -> bool:
    start, end = first.get(ENTITY_ATTRIBUTE_START), first.get(ENTITY_ATTRIBUTE_END)
    if start is None or end is None:
        return False
    return start < second[ENTITY_ATTRIBUTE_END] and second[ENTITY_ATTRIBUTE_START] < end
