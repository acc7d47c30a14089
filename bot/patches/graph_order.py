"""The NLU and policy graphs run their nodes in a fixed order, without dask.

`DaskGraphRunner.run` builds a dask task graph and hands it to dask's local scheduler three
times a turn (the NLU, and the policies after the message and after the action). The
scheduler's bookkeeping for a graph of a dozen nodes run on one thread was 6% of Rasa's CPU
under 10 shoppers (py-spy): about as much as running the nodes it scheduled, apart from DIET.
Here the order is worked out once per set of targets and the nodes are called in it, each
with its parents' outputs, exactly as dask called them (the same `GraphNode` objects with the
same `(name, output)` arguments).
"""

from __future__ import annotations

from graphlib import TopologicalSorter
from typing import Any

from rasa.engine.exceptions import GraphRunError

from bot.patches import base

NAME = "graph_order"
_RUNNER = "rasa.engine.runner.dask:DaskGraphRunner"
EXPECTED = (
    base.Signature(f"{_RUNNER}.run", signature="(self, inputs=None, targets=None)"),
    # what `run` does, step for step: the minimal graph, nodes called with their parents'
    # `(name, output)` pairs, inputs added as `(name, value)` unless they clash with a node
    base.Source(f"{_RUNNER}.run", digest="39c53d008746a393"),
    base.Source(f"{_RUNNER}._build_dask_graph", digest="d9a3c5c70763c421"),
    base.Source(f"{_RUNNER}._add_inputs_to_graph", digest="852374ac06efb3b3"),
    base.Contains(
        f"{_RUNNER}.__init__",
        snippets=("self._graph_schema = graph_schema", "self._instantiated_nodes"),
    ),
    base.Signature(
        "rasa.engine.graph:GraphSchema.minimal_graph_schema", signature="(self, targets=None)"
    ),
    base.Exists("rasa.engine.graph:GraphSchema.target_names"),
    base.Contains(
        "rasa.engine.graph:GraphSchema", snippets=("    nodes: Dict[Text, SchemaNode]\n",)
    ),
    base.Contains("rasa.engine.graph:SchemaNode", snippets=("    needs: Dict[Text, Text]\n",)),
)


def check() -> None:
    base.check(NAME, EXPECTED)


def apply() -> None:
    from rasa.engine.runner.dask import DaskGraphRunner

    base.replace(DaskGraphRunner, "run", run_in_order)


def run_order(schema: Any, targets: tuple[str, ...]) -> list[tuple[str, list[str]]]:
    """Each node needed for the targets with the names its inputs come from, parents first."""
    minimal = schema.minimal_graph_schema(list(targets))
    sorter = TopologicalSorter(
        {name: list(node.needs.values()) for name, node in minimal.nodes.items()}
    )
    return [
        (name, list(minimal.nodes[name].needs.values()))
        for name in sorter.static_order()
        if name in minimal.nodes
    ]


def run_in_order(
    self: Any,
    inputs: dict[str, Any] | None = None,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    """`DaskGraphRunner.run` with the nodes called one after another."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    orders = self.__dict__.setdefault("_daogou_run_orders", {})
    order = orders.get(run_targets)
    if order is None:
        order = orders[run_targets] = run_order(self._graph_schema, run_targets)
    results: dict[str, Any] = {}
    for input_name, input_value in (inputs or {}).items():
        if isinstance(input_value, str) and input_value in self._graph_schema.nodes:
            raise GraphRunError(
                f"Input value '{input_value}' clashes with a node name. Make sure that none of "
                f"the input names passed to the `run` method are the same as node names in the "
                f"graph schema."
            )
        results[input_name] = (input_name, input_value)
    for name, needs in order:
        missing = [need for need in needs if need not in results]
        if missing:
            raise GraphRunError(f"Error running runner: nothing provides {missing} for '{name}'.")
        results[name] = self._instantiated_nodes[name](*(results[need] for need in needs))
    absent = [target for target in run_targets if target not in results]
    if absent:
        raise GraphRunError(f"Error running runner: no node or input named {absent}.")
    # dask answered the targets' `(name, output)` pairs, which Rasa turned into a dict
    return dict(results[target] for target in run_targets)
