"""JSON schemas are checked once, not on every call.

`jsonschema.validate` first validates the *schema* against its meta-schema; Rasa calls it on
every action server response, and that check was half the CPU time of Rasa's prediction loop.
The instance is still validated exactly as before. Rasa imports `validate` from jsonschema
inside the functions that use it, so replacing `jsonschema.validate` reaches them.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
from jsonschema import exceptions, validators

from bot.patches import base

NAME = "checked_schema"
_INSIDE_A_FUNCTION = "    from jsonschema import validate\n"
EXPECTED = (
    # this function is jsonschema's `validate` with the schema check cached: the same steps
    base.Signature(
        "jsonschema:validate", signature="(instance, schema, cls=None, *args, **kwargs)"
    ),
    base.Source("jsonschema.validators:validate", digest="dc1e7e6a0aee8a4e"),
    base.Exists("jsonschema.validators:validator_for"),
    base.Exists("jsonschema.exceptions:best_match"),
    # Rasa's callers look `validate` up when they run, not when they are imported
    base.Contains(
        "rasa.core.actions.action:RemoteAction._validate_action_result",
        snippets=(_INSIDE_A_FUNCTION,),
    ),
    base.Contains(
        "rasa.shared.utils.validation:validate_training_data",
        snippets=(_INSIDE_A_FUNCTION,),
    ),
    base.Contains("rasa.core.nlg.callback", snippets=(_INSIDE_A_FUNCTION,)),
    base.Contains("rasa.server", snippets=("jsonschema.validate(",)),
)

_validate = jsonschema.validate


def check() -> None:
    base.check(NAME, EXPECTED)


def apply() -> None:
    global _validate
    _validate = base.replace(jsonschema, "validate", validate_with_checked_schema)


@functools.lru_cache(maxsize=64)
def _checked_validator(schema_json: str) -> Any:
    schema = json.loads(schema_json)
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_with_checked_schema(instance: Any, schema: Any, *args: Any, **kwargs: Any) -> None:
    """`jsonschema.validate` with the schema's own check cached per distinct schema."""
    if args or kwargs:
        return _validate(instance, schema, *args, **kwargs)
    try:
        key = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):
        return _validate(instance, schema)
    error = exceptions.best_match(_checked_validator(key).iter_errors(instance))
    if error is not None:
        raise error
