"""bot/patches: every patch in the one PATCHES list passes its check on this Rasa, and fails it
with a PatchMismatch naming the patch when what it relies on is gone, has another signature or
other source, or Rasa is another version; applying and reverting leaves Rasa as it was; the
launcher checks everything before it applies anything."""

from __future__ import annotations

import enum
import importlib
import linecache
import os
import pkgutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import bot.serve
from bot import patches
from bot.patches import PATCHES, PatchMismatch, base

REPO_ROOT = Path(__file__).resolve().parents[2]
BY_NAME = pytest.mark.parametrize("patch", PATCHES, ids=[p.NAME for p in PATCHES])


def owner_and_name(target: str) -> tuple[Any, str]:
    """The object that holds the target's last attribute (for a class, the class in its MRO
    that defines it), and that attribute's name."""
    module_name, _, path = target.partition(":")
    *parents, name = path.split(".")
    owner: Any = importlib.import_module(module_name)
    for part in parents:
        owner = getattr(owner, part)
    if isinstance(owner, type):
        owner = next((klass for klass in owner.__mro__ if name in vars(klass)), owner)
    return owner, name


def remove(monkeypatch, target: str) -> None:
    module_name, _, path = target.partition(":")
    if not path:  # a module: make its import fail
        monkeypatch.setitem(sys.modules, module_name, None)
        return
    owner, name = owner_and_name(target)
    if isinstance(owner, enum.EnumMeta):  # a member cannot be deleted: empty its enum's place
        holder, holder_name = owner_and_name(target.rsplit(".", 1)[0])
        monkeypatch.setattr(holder, holder_name, types.SimpleNamespace())
    else:
        monkeypatch.delattr(owner, name)


def same_signature_other_body(function: Any) -> Any:
    """A function with the signature of `function`, a different body, and a readable source."""
    source = f"def {function.__name__}{base.plain_signature(function)}:\n    return None\n"
    filename = f"<changed {function.__qualname__}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[function.__name__]


def test_the_list_holds_every_patch_module_once_and_the_launcher_names_them():
    modules = {
        info.name
        for info in pkgutil.iter_modules(patches.__path__)
        if info.name != "base" and not info.name.startswith("_")
    }
    assert sorted(p.NAME for p in PATCHES) == sorted(modules)
    assert len(set(PATCHES)) == len(PATCHES) == 15
    for patch in PATCHES:
        assert patch.__name__ == f"bot.patches.{patch.NAME}"
        assert patch.__doc__ and len(patch.__doc__) > 100, patch.NAME  # says why
        assert callable(patch.check) and callable(patch.apply)
        assert patch.EXPECTED, patch.NAME
        assert f"`{patch.NAME}`" in bot.serve.__doc__
    # on the loaded model: folded before the warm-up traces, frozen last
    steps = [p.NAME for p in PATCHES if hasattr(p, "apply_to_agent")]
    assert steps == ["fold_kernel_masks", "warm_up", "freeze_gc"]


@BY_NAME
def test_every_check_passes_on_this_rasa(patch):
    patch.check()


def test_checks_still_pass_once_applied():
    patches.apply_all()
    patches.check_all()


@BY_NAME
def test_check_fails_when_what_the_patch_relies_on_is_missing(patch, monkeypatch):
    for expectation in patch.EXPECTED:
        with monkeypatch.context() as broken:
            remove(broken, expectation.target)
            with pytest.raises(PatchMismatch) as caught:
                patch.check()
        assert caught.value.patch == patch.NAME
        assert expectation.target in str(caught.value), str(caught.value)
        assert repr(patch.NAME) in str(caught.value)
    patch.check()  # all put back


@BY_NAME
def test_check_fails_on_another_signature_or_other_source(patch, monkeypatch):
    def changed(*args: Any, **kwargs: Any) -> None:
        return None

    for expectation in patch.EXPECTED:
        if isinstance(expectation, base.Signature):
            replacement, found = changed, "(*args, **kwargs)"
        elif isinstance(expectation, base.Source):
            replacement = same_signature_other_body(base.lookup(expectation.target))
            found = "source digest"
        else:
            continue
        with monkeypatch.context() as broken:
            broken.setattr(*owner_and_name(expectation.target), replacement)
            with pytest.raises(PatchMismatch) as caught:
                patch.check()
        message = str(caught.value)
        assert caught.value.patch == patch.NAME and expectation.target in message, message
        assert found in message, message


@BY_NAME
def test_check_fails_on_another_rasa_version(patch, monkeypatch):
    import rasa

    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(PatchMismatch, match=r"expected rasa 3\.6\.21, found rasa 3\.7\.0"):
        patch.check()


def test_all_checks_fail_on_another_rasa_version(monkeypatch):
    import rasa

    monkeypatch.setattr(rasa, "__version__", "3.6.20")
    with pytest.raises(PatchMismatch, match=r"expected rasa 3\.6\.21, found rasa 3\.6\.20"):
        patches.check_all()


def test_fold_check_fails_when_the_sparse_layer_attributes_move(monkeypatch):
    """The fold used getattr with defaults and would have done nothing, silently."""
    import tensorflow as tf
    from rasa.utils.tensorflow.layers import RandomlyConnectedDense

    from bot.patches import fold_kernel_masks

    class RenamedMask(RandomlyConnectedDense):
        def build(self, input_shape: Any) -> None:
            super().build(input_shape)
            self.mask = tf.Variable(initial_value=self._random_mask(), trainable=False)

    init = RandomlyConnectedDense.__init__

    def init_with_renamed_density(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.sparsity = 1 - self.__dict__.pop("density")

    with monkeypatch.context() as broken:
        broken.setattr(RandomlyConnectedDense, "build", RenamedMask.build)
        with pytest.raises(PatchMismatch, match="to contain 'self.kernel_mask = tf.Variable\\('"):
            fold_kernel_masks.check()
    with monkeypatch.context() as broken:
        broken.setattr(RandomlyConnectedDense, "__init__", init_with_renamed_density)
        with pytest.raises(PatchMismatch, match="to have 'density' 0.5, found 'no such attribute'"):
            fold_kernel_masks.check()
    fold_kernel_masks.check()


def test_log_copy_check_rejects_a_module_with_other_deepcopies(monkeypatch):
    from bot.patches import no_log_copies

    modules = (*no_log_copies.LOG_ONLY_DEEPCOPY_MODULES, "rasa.shared.core.domain")
    monkeypatch.setattr(no_log_copies, "LOG_ONLY_DEEPCOPY_MODULES", modules)
    with pytest.raises(PatchMismatch, match="every copy.deepcopy in rasa.shared.core.domain"):
        no_log_copies.check()


def test_module_replacements_are_checked_to_replace_the_modules(monkeypatch):
    import re

    from bot.patches import compiled_regex, no_log_copies

    regex_module = importlib.import_module(compiled_regex.REGEX_FEATURIZER_MODULE)
    monkeypatch.setattr(regex_module, "re", types.SimpleNamespace(finditer=re.finditer))
    with pytest.raises(PatchMismatch, match="to be the re module"):
        compiled_regex.check()
    processor = importlib.import_module(no_log_copies.LOG_ONLY_DEEPCOPY_MODULES[0])
    monkeypatch.setattr(processor, "copy", types.SimpleNamespace())
    with pytest.raises(PatchMismatch, match="to be the copy module"):
        no_log_copies.check()


def current_values() -> dict[str, Any]:
    """Every replaced attribute's own entry (a staticmethod stays one) or the inherited value."""
    values = {}
    for patch in PATCHES:
        for expectation in patch.EXPECTED:
            if not expectation.target.partition(":")[2]:
                continue  # a module
            owner, name = owner_and_name(expectation.target)
            values[expectation.target] = vars(owner).get(name, getattr(owner, name))
    return values


def test_apply_all_replaces_and_revert_all_restores_exactly():
    import jsonschema
    from rasa.core import agent as rasa_agent
    from rasa.shared.core.events import Event

    before = current_values()
    patches.apply_all()
    patches.apply_all()  # twice: still one layer of patches
    applied = current_values()
    changed = {target for target in before if before[target] is not applied[target]}
    assert {
        "jsonschema:validate",
        "rasa.core.agent:load_agent",
        "rasa.server:_load_agent",
        "rasa.core.processor:MessageProcessor.parse_message",
        "rasa.shared.core.events:Event.resolve_by_type",
        "rasa.core.actions.action:RemoteAction._action_call_format",
        "rasa.core.actions.action:RemoteAction.run",
        "rasa.shared.core.trackers:DialogueStateTracker.past_states",
        "rasa.shared.core.domain:Domain.is_empty",
        "rasa.engine.runner.dask:DaskGraphRunner.run",
        "rasa.core.processor:copy",
        "rasa.core.policies.memoization:copy",
        "rasa.core.policies.rule_policy:copy",
        "rasa.nlu.featurizers.sparse_featurizer.regex_featurizer:re",
        "rasa.utils.tensorflow.models:RasaModel.load",
    } == changed
    assert patches.checked_schema._validate is before["jsonschema:validate"]
    assert patches.nlu_thread._parse_message is not patches.nlu_thread.parse_message_in_nlu_thread
    assert type(vars(Event)["resolve_by_type"]) is staticmethod
    assert len(base._after_loading) == 3
    patches.revert_all()
    after = current_values()
    assert all(before[target] is after[target] for target in before)
    assert jsonschema.validate is before["jsonschema:validate"]
    assert rasa_agent.load_agent is before["rasa.core.agent:load_agent"]
    assert base._after_loading == []


def test_launcher_checks_everything_before_applying_anything(monkeypatch):
    import jsonschema
    import rasa
    import rasa.__main__

    seen = {}

    def rasa_main() -> None:
        seen["validate"] = jsonschema.validate
        seen["applied"] = len(base._replaced)

    monkeypatch.setattr(rasa.__main__, "main", rasa_main)
    bot.serve.main()
    assert seen["validate"] is patches.checked_schema.validate_with_checked_schema
    assert seen["applied"] >= 13
    patches.revert_all()

    seen.clear()
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(PatchMismatch, match="rasa 3.7.0"):
        bot.serve.main()
    assert seen == {} and base._replaced == {}  # nothing applied, Rasa never started


def test_the_launcher_starts_rasa_with_its_thread_settings_after_the_checks():
    """The checks must leave TensorFlow's runtime unstarted: Rasa sets its thread pools from
    the environment first thing (daogou/launcher.py sets them), which fails once it runs."""
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
        "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot.serve", "--version"],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Rasa Version      :         3.6.21" in result.stdout
