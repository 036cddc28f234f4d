"""What the executor and the statement table's rewrites look for in a statement, found in one
walk of its tree.

Every rewrite applied before a statement is planned (:data:`sqlml.statement_table.REWRITES`) acts
on the tables the statement names, on its CTEs or on dotted ``ML.<function>(…)`` calls, and most
statements give most of them nothing to do. Each walking the whole tree to find that out cost
more than the rest of a short statement's planning (``bench/bench_statement_overhead.py``): the
executor surveys the tree once, dispatching each node on its type, and hands the :class:`Survey`
to every rewrite. A rewrite that changes the tree's shape in place says so (:meth:`Survey.changed`),
or returns a new tree; either way the next rewrite gets a fresh survey. The same walk tells the
executor the node types the statement holds (whether its text alone decides its DuckDB text,
:func:`~sqlml.sql.known_statements.text_alone_decides`) and the parameters it binds.
"""

from __future__ import annotations

import functools

from sqlglot import exp

#: The node types a survey keeps, in the order of :class:`Survey`'s lists.
_KEPT = (exp.Table, exp.CTE, exp.Dot, (exp.Parameter, exp.Placeholder))


class Survey:
    """The tables, CTEs and dotted names of a tree, each in :meth:`sqlglot.exp.Expression.find_all`'s
    (breadth-first) order.

    Args:
        tree: the statement, walked once.

    Attributes:
        tree: the tree walked.
        tables: every :class:`~sqlglot.exp.Table` node.
        ctes: every :class:`~sqlglot.exp.CTE` node.
        dots: every :class:`~sqlglot.exp.Dot` node (``ML.STANDARD_SCALER(x)`` is one).
        parameters: every ``@name`` and ``?`` parameter node (see :func:`~sqlml.sql.transpile.parameters_among`).
        kinds: the type of every node (a frozenset).
        nodes: every node, in walk order.
        stale: the tree changed shape since the walk (see :meth:`changed`).
    """

    __slots__ = ("tree", "tables", "ctes", "dots", "parameters", "kinds", "nodes", "stale")

    def __init__(self, tree: exp.Expression):
        # the node types first, then one comprehension per kept type the tree holds: no call per
        # node (a survey runs for every statement, twice for most: the executor's and the renderer's)
        self.tree = tree
        nodes = list(tree.walk())
        kinds = frozenset({type(node) for node in nodes})
        self.tables, self.ctes, self.dots, self.parameters = (
            [node for node in nodes if type(node) in types] if types else [] for types in _kept(kinds)
        )
        self.kinds, self.nodes = kinds, nodes
        self.stale = False

    def changed(self) -> None:
        """Say that the tree was changed in place in a way that may add or drop nodes of the kept
        types (a node replaced by a subquery or expression): the next rewrite walks it again."""
        self.stale = True


def survey_of(tree: exp.Expression, survey: Survey | None) -> Survey:
    """``survey`` when it is given, else a new survey of ``tree`` (a rewrite called on its own)."""
    return Survey(tree) if survey is None else survey


@functools.lru_cache(maxsize=1024)
def _kept(kinds: frozenset[type]) -> tuple[frozenset[type], ...]:
    """The types among ``kinds`` each of :data:`_KEPT` keeps (subclasses included; a type in the
    first that keeps it), worked out once per set of node types (statements share a few shapes)."""
    slots = {kind: next((i for i, kept in enumerate(_KEPT) if issubclass(kind, kept)), None) for kind in kinds}
    return tuple(frozenset(kind for kind, slot in slots.items() if slot == index) for index in range(len(_KEPT)))
