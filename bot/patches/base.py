"""What the patch modules share: the mismatch error, the expectations their checks verify, a
replacement that remembers what it replaced, and the steps run on the model once Rasa loaded it.

An expectation names a Rasa (or jsonschema) object as `"module:attribute.attribute"`. A patch
that replaces a function expects its signature; a patch that re-implements a function expects
that function's source, by digest, exactly as in Rasa 3.6.21; a patch that relies on how Rasa
uses a name (a lookup at call time, an attribute set in `__init__`) expects that text in the
source. Checks look at Rasa's own objects also after `apply()`: a replaced attribute is looked
up as it was before its first replacement.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import textwrap
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

RASA_VERSION = "3.6.21"


class PatchMismatch(RuntimeError):
    """Rasa is not what a patch was written against: serving with the patch could be wrong."""

    def __init__(self, patch: str, expected: str, found: str | None = None) -> None:
        self.patch = patch
        self.expected = expected
        self.found = found
        message = f"Rasa patch {patch!r} expected {expected}"
        if found is not None:
            message += f", found {found}"
        message += (
            f". The patches in bot/patches/ were checked against Rasa {RASA_VERSION} only: "
            "re-check this one against the installed Rasa before serving with it."
        )
        super().__init__(message)


def check_version(patch: str) -> None:
    import rasa

    found = getattr(rasa, "__version__", None)
    if found != RASA_VERSION:
        raise PatchMismatch(patch, f"rasa {RASA_VERSION}", f"rasa {found}")


# -- replacing, reversibly ---------------------------------------------------------------------
@dataclass
class _Replaced:
    owner: Any
    name: str
    had_own: bool  # the attribute was in the owner's own __dict__ (not inherited)
    raw: Any  # that __dict__ entry: a staticmethod stays a staticmethod when put back
    value: Any  # what getattr answered: the function the patch wraps or mirrors


_replaced: dict[tuple[int, str], _Replaced] = {}


def replace(owner: Any, name: str, value: Any) -> Any:
    """`setattr(owner, name, value)`; returns the value it had before the first replacement,
    so applying a patch twice never wraps the patch itself."""
    key = (id(owner), name)
    if key not in _replaced:
        own = vars(owner)
        _replaced[key] = _Replaced(owner, name, name in own, own.get(name), getattr(owner, name))
    setattr(owner, name, value)
    return _replaced[key].value


def is_replaced(owner: Any, name: str) -> bool:
    return (id(owner), name) in _replaced


def original(owner: Any, name: str) -> Any:
    """The attribute as Rasa defined it, replaced or not."""
    replaced = _replaced.get((id(owner), name))
    return replaced.value if replaced is not None else getattr(owner, name)


def revert_all() -> None:
    """Puts back everything replaced, newest first, and forgets the after-loading steps."""
    for replaced in reversed(list(_replaced.values())):
        if replaced.had_own:
            setattr(replaced.owner, replaced.name, replaced.raw)
        else:
            delattr(replaced.owner, replaced.name)
    _replaced.clear()
    _after_loading.clear()


# -- expectations --------------------------------------------------------------------------------
def lookup(target: str) -> Any:
    """The object named `"module:attr.attr"`, as defined before any replacement; LookupError
    when the module or an attribute is missing."""
    module_name, _, path = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise LookupError(f"no module {module_name} ({error})") from error
    for part in path.split(".") if path else ():
        owner = obj
        try:
            obj = getattr(owner, part)
        except AttributeError as error:
            raise LookupError(f"no attribute {part!r} on {owner!r}") from error
        obj = original(owner, part)
    return obj


def plain_signature(obj: Any) -> str:
    """The signature without annotations: `(self, message, tracker=None)`."""
    signature = inspect.signature(obj)
    parameters = [p.replace(annotation=p.empty) for p in signature.parameters.values()]
    return str(signature.replace(parameters=parameters, return_annotation=signature.empty))


def source_digest(obj: Any) -> str:
    return hashlib.sha256(textwrap.dedent(inspect.getsource(obj)).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Exists:
    target: str

    def verify(self, patch: str) -> Any:
        try:
            return lookup(self.target)
        except LookupError as error:
            raise PatchMismatch(patch, f"{self.target} to exist", str(error)) from None


@dataclass(frozen=True)
class Signature(Exists):
    """A function the patch replaces or calls, with these parameters."""

    signature: str = ""

    def verify(self, patch: str) -> Any:
        obj = super().verify(patch)
        try:
            found = plain_signature(obj)
        except (TypeError, ValueError) as error:
            found = f"no signature ({error})"
        if found != self.signature:
            raise PatchMismatch(patch, f"{self.target}{self.signature}", found)
        return obj


@dataclass(frozen=True)
class Source(Exists):
    """A function the patch re-implements: its source must be Rasa 3.6.21's, unchanged."""

    digest: str = ""

    def verify(self, patch: str) -> Any:
        obj = super().verify(patch)
        try:
            found = f"source digest {source_digest(obj)}"
        except (OSError, TypeError) as error:
            found = f"no source ({error})"
        if found != f"source digest {self.digest}":
            raise PatchMismatch(
                patch, f"the source of {self.target} with digest {self.digest}", found
            )
        return obj


@dataclass(frozen=True)
class Contains(Exists):
    """Source text the patch depends on (a name looked up at call time, an attribute set)."""

    snippets: tuple[str, ...] = ()

    def verify(self, patch: str) -> Any:
        obj = super().verify(patch)
        try:
            source = inspect.getsource(obj)
        except (OSError, TypeError) as error:
            raise PatchMismatch(patch, f"{self.target} with source", str(error)) from None
        for snippet in self.snippets:
            if snippet not in source:
                raise PatchMismatch(patch, f"{self.target} to contain {snippet!r}", "it does not")
        return obj


Expectation = Exists  # Signature, Source and Contains are Exists with more to verify


def check(patch: str, expectations: Iterable[Expectation]) -> None:
    check_version(patch)
    for expectation in expectations:
        expectation.verify(patch)


# -- after loading -------------------------------------------------------------------------------
# Rasa's server loads its model through `rasa.core.agent.load_agent`, looked up at call time.
LOAD_AGENT = (
    Signature(
        "rasa.core.agent:load_agent",
        signature="(model_path=None, model_server=None, remote_storage=None, endpoints=None, "
        "loop=None)",
    ),
    Contains("rasa.core.run:load_agent_on_start", snippets=("await agent.load_agent(",)),
    Signature("rasa.core.agent:Agent.is_ready", signature="(self)"),
)

AgentStep = Callable[[Any], "Awaitable[None] | None"]
_after_loading: list[AgentStep] = []


def run_after_loading(step: AgentStep) -> None:
    """Runs `step(agent)` on every agent Rasa loads (also None, or one not ready), after the
    steps added before it."""
    from rasa.core import agent as rasa_agent

    if step not in _after_loading:
        _after_loading.append(step)
    if not is_replaced(rasa_agent, "load_agent"):
        replace(rasa_agent, "load_agent", _load_agent_then_steps)


async def after_loading(agent: Any) -> None:
    for step in list(_after_loading):
        result = step(agent)
        if inspect.isawaitable(result):
            await result


async def _load_agent_then_steps(*args: Any, **kwargs: Any) -> Any:
    from rasa.core import agent as rasa_agent

    loaded = await original(rasa_agent, "load_agent")(*args, **kwargs)
    await after_loading(loaded)
    return loaded


def is_ready(agent: Any) -> bool:
    return agent is not None and agent.is_ready()
