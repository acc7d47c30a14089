"""`rasa` as the Rasa CLI runs it, with the patches for turn latency in `bot/patches/`.

Each patch is a module there with the evidence for it in its docstring:

1. `freeze_gc`: the loaded model is frozen out of the garbage collector.
2. `checked_schema`: JSON schemas are checked once, not on every call.
3. `warm_up`: the model answers a few messages before the first shopper.
4. `nlu_thread`: the NLU runs in its own thread.
5. `event_class_cache`: event classes are looked up once per type name.
6. `current_turn_events`: the action server is sent the current turn's events only.
7. `no_log_copies`: log arguments are not deep-copied.
8. `resumed_past_states`: dialogue states are made from the events new since the last call.
9. `fold_kernel_masks`: sparse transformer weights are masked once after loading.
10. `compiled_regex`: the RegexFeaturizer's patterns are compiled once.
11. `empty_domain`: `Domain.is_empty` compares with an empty domain made once.
12. `graph_order`: the NLU and policy graphs run their nodes in a fixed order, without dask.
13. `action_timeout`: a custom action call waits at most the endpoint's `timeout` (2.5 s), and a
    slow, dead or failing action server gets the shopper a polite reply instead of silence.
14. `model_swap`: `PUT /model` loads the new model beside the serving one, off the event loop,
    switches to it without a pause and frees the old one (`daogou bot retrain` uses it).
15. `fast_model_load`: a model loaded to serve is built by one forward pass, not by a training
    step (Rasa's start took 56 s with the shop's model, 40 of them tracing that step).

Every patch is checked before any is applied: a Rasa other than 3.6.21, or internals that are
not what a patch expects, stop the start with a `PatchMismatch` naming the patch.
Run with the Rasa environment's Python: `python -m bot.serve run --model ...` takes the same
arguments as `rasa`.
"""

from __future__ import annotations

from bot import patches
from cn_text.pii import mask_log_records


def main() -> None:
    mask_log_records()  # shoppers' phone numbers, ID numbers and addresses never reach a log
    patches.check_all()
    patches.apply_all()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
