"""Apply a sequence of tree rewrites to a statement, skipping those with nothing to act on.

Each rewrite looks for nodes of a few types (``exp.Unnest``, ``exp.Extract``…) that most
statements do not have, and walking the whole tree once per rewrite to find that out cost more
than the rest of a short statement's translation. :class:`Passes` walks the tree once to learn
which node types it holds and runs only the rewrites that act on one of them; it walks again
only after a rewrite that may have added node types it does not declare.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from sqlglot import exp


class Pass(NamedTuple):
    """One rewrite and the node types it is about.

    Attributes:
        rewrite: ``rewrite(tree) -> tree``; it may change the tree in place.
        acts_on: the node types (subclasses included) without which it changes nothing.
        adds: the node types it may put into the tree, or None when it may add any (a rewrite
            that builds from a template); copies of the tree's own nodes need not be listed.
    """

    rewrite: Callable[[exp.Expression], exp.Expression]
    acts_on: tuple[type[exp.Expression], ...]
    adds: tuple[type[exp.Expression], ...] | None = None


class Passes:
    """Rewrites applied in order, each only when the tree holds a node type it acts on.

    Args:
        passes: the rewrites, in the order they must run.
    """

    def __init__(self, *passes: Pass):
        self.passes = passes
        self._positions: dict[type, frozenset[int]] = {}  # node type → passes acting on it

    def apply(self, tree: exp.Expression) -> exp.Expression:
        """``tree`` after every pass that has something to act on."""
        pending: set[int] | None = None  # the passes the tree has nodes for; None: walk to learn
        for position, step in enumerate(self.passes):
            if pending is None:
                pending = self._acting_on({type(node) for node in tree.walk()})
            if position not in pending:
                continue
            tree = step.rewrite(tree)
            if step.adds is None:
                pending = None
            else:
                pending |= self._acting_on(step.adds)
        return tree

    def _acting_on(self, kinds) -> set[int]:
        """Positions of the passes acting on any of the node types ``kinds``."""
        found: set[int] = set()
        for kind in kinds:
            positions = self._positions.get(kind)
            if positions is None:
                positions = frozenset(i for i, step in enumerate(self.passes) if issubclass(kind, step.acts_on))
                self._positions[kind] = positions
            found |= positions
        return found
