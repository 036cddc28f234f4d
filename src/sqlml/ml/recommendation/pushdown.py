"""How many rows per user (or per item) a query around ML.RECOMMEND can use: "top k" pushed into the call.

A recommendation query ranks each user's rows and keeps the best ones, written the two usual ways
(the first is the MovieLens tutorial's,
https://cloud.google.com/bigquery/docs/bigqueryml-mf-explicit-tutorial):

    SELECT user_id, ARRAY_AGG(STRUCT(item_id, predicted_rating) ORDER BY predicted_rating DESC LIMIT 5)
    FROM ML.RECOMMEND(MODEL m) GROUP BY user_id

    SELECT * FROM ML.RECOMMEND(MODEL m)
    QUALIFY ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY predicted_rating DESC) <= 10

(the second also as a subquery computing the rank and an outer ``WHERE rank <= 10``), and the same
with the item column in place of the user column ("the best users for each item"). The call may
also be read through pass-through layers — ``WITH recs AS (SELECT * FROM ML.RECOMMEND(…)) SELECT …
FROM recs QUALIFY …`` or ``FROM (SELECT * FROM ML.RECOMMEND(…))`` — that keep every row and the
key and prediction columns as they are. Such a query reads only each key's ``k`` best rows, so
ML.RECOMMEND emits only those — and every row tied with the ``k``-th — instead of every item:
:func:`ranked_limit` finds ``k`` in the syntax tree around the call. Nothing is rewritten: the
query still ranks and cuts the rows it gets, and gives the same rows as over the full output,
because

* the SELECT reading the call (directly, or through pass-through layers: a subquery, or a WITH
  query the statement names exactly once) reads nothing else (no JOIN, no WHERE before the
  ranking), so each key's rows are exactly the call's rows for that key;
* the ranking orders by the prediction, descending, first: every row it keeps has a prediction
  at least the ``k``-th largest of its key's, and all those rows are emitted (ties included, so
  any further ORDER BY key, RANK and ROW_NUMBER see what they would have seen);
* nothing else reads the dropped rows: no other window function or aggregate, no HAVING, and the
  rank is compared with a constant ``k`` (``<= k``, ``< k + 1``) alone or ANDed with row filters.

Anything else (a JOIN, another aggregate, DENSE_RANK, a parameter for ``k``, a WITH query read
twice…) returns None: the call emits every row and the query runs as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from sqlml.sql.expressions import MLFunction

_RANKS = (exp.RowNumber, exp.Rank)
#: Whether a node of a condition is the rank (the window itself, or a column naming it).
_IsRank = Callable[[exp.Expression], bool]


def ranked_limit(call: MLFunction, key_col: str, prediction_col: str) -> int | None:
    """The ``k`` of a "best ``k`` rows per ``key_col`` by the prediction" the query around
    ``call`` applies to its rows, or None when the query may read more of them.

    Args:
        call: the ML.RECOMMEND node, inside the statement's tree.
        key_col: the model's user column (best items per user) or item column (best users per item).
        prediction_col: ML.RECOMMEND's prediction column (``predicted_<rating_col>[_confidence]``).
    """
    names = _Names(key_col.lower(), prediction_col.lower())
    select = _reading_select(call, names)
    if select is None:
        return None
    if select.args.get("group"):
        limit = _array_agg_limit(select, names)
    else:
        limit = _qualify_limit(select, names)
        limit = limit if limit is not None else _outer_where_limit(select, names)
    return limit if limit is not None and limit >= 1 else None  # k < 1 keeps no row: nothing to save


@dataclass(frozen=True)
class _Names:
    # the ranking's partition column (the model's user or item column) and ML.RECOMMEND's
    # prediction column, lower-case (BigQuery's column names are case-insensitive)
    user: str
    prediction: str

    def is_user(self, node: exp.Expression) -> bool:
        return isinstance(node, exp.Column) and node.name.lower() == self.user

    def ranks_by_prediction(self, order: exp.Order | None) -> bool:
        first = order.expressions[0] if order is not None and order.expressions else None
        return (
            isinstance(first, exp.Ordered) and bool(first.args.get("desc"))
            and isinstance(first.this, exp.Column) and first.this.name.lower() == self.prediction
        )  # fmt: skip


def _reading_select(call: MLFunction, names: _Names) -> exp.Select | None:
    """The SELECT whose FROM is the call alone — directly or through pass-through layers
    (:func:`_passes_through`) — with nothing that drops or adds rows before its ranking."""
    holder = call.parent
    from_ = holder.parent if isinstance(holder, exp.Table) else None
    select = from_.parent if isinstance(from_, exp.From) else None
    if not isinstance(select, exp.Select) or holder.args.get("pivots") or holder.args.get("sample"):
        return None
    while _passes_through(select, names) and (reader := _sole_reader(select)) is not None:
        select = reader
    if any(select.args.get(arg) for arg in _ROW_DROPPING):
        return None
    return select


#: SELECT clauses that drop or add rows before a ranking (or pair them with other rows).
_ROW_DROPPING = ("joins", "laterals", "where", "having", "connect", "prewhere")


def _passes_through(select: exp.Select, names: _Names) -> bool:
    """A SELECT that keeps every row it reads and the key and prediction columns as they are:
    only a select list of row-wise expressions (no window, aggregate or subquery) and a FROM."""
    if any(value for arg, value in select.args.items() if arg not in ("expressions", "from_")):
        return False
    if _hides_columns(select, names):
        return False
    return not any(p.find(exp.Window, exp.AggFunc, exp.Subquery, exp.Query) is not None for p in select.expressions)


def _sole_reader(select: exp.Select) -> exp.Select | None:
    """The SELECT whose FROM is ``select`` alone, as a subquery or as a WITH query that the
    statement names exactly once (a second reader would need the rows a pushed ``k`` drops)."""
    parent = select.parent
    if isinstance(parent, exp.Subquery) and not parent.args.get("pivots") and not parent.args.get("sample"):
        from_ = parent.parent
    elif isinstance(parent, exp.CTE):
        if not isinstance(parent.parent, exp.With) or parent.parent.args.get("recursive") or not parent.alias:
            return None
        name = parent.alias.lower()
        uses = [t for t in select.root().find_all(exp.Table) if not t.args.get("db") and t.name.lower() == name]
        if len(uses) != 1 or uses[0].args.get("pivots") or uses[0].args.get("sample"):
            return None
        from_ = uses[0].parent
    else:
        return None
    reader = from_.parent if isinstance(from_, exp.From) else None
    return reader if isinstance(reader, exp.Select) else None


def _constant(node: exp.Expression) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string and node.this.isdigit():
        return int(node.this)
    return None


def _rank_limit(condition: exp.Expression, is_rank: _IsRank) -> int | None:
    """``k`` when ``condition`` is ``rank <= k`` / ``rank < k + 1`` (either side) ANDed with
    row filters that use no window, aggregate or subquery; ``is_rank(node)`` tells the rank."""
    limits = []
    for part in condition.flatten() if isinstance(condition, exp.And) else [condition]:
        limit = _compared(part, is_rank)
        if limit is not None:
            limits.append(limit)
        elif part.find(exp.Window, exp.AggFunc, exp.Subquery, exp.Query) is not None or any(is_rank(n) for n in part.walk()):
            return None
    return min(limits) if limits else None


def _compared(part: exp.Expression, is_rank: _IsRank) -> int | None:
    if not isinstance(part, (exp.LTE, exp.LT, exp.GTE, exp.GT)):
        return None
    kind, rank, bound = type(part), part.this, part.expression
    if kind in (exp.GTE, exp.GT):  # k >= rank
        kind, rank, bound = (exp.LTE if kind is exp.GTE else exp.LT), bound, rank
    if not is_rank(rank):
        return None
    k = _constant(bound)
    if k is None:
        return None
    return k if kind is exp.LTE else k - 1


def _ranking_window(node: exp.Expression, names: _Names) -> bool:
    """``ROW_NUMBER()`` or ``RANK()`` ``OVER (PARTITION BY <user> ORDER BY <prediction> DESC …)``."""
    if not isinstance(node, exp.Window) or not isinstance(node.this, _RANKS) or node.args.get("spec"):
        return False
    partition = node.args.get("partition_by") or []
    return len(partition) == 1 and names.is_user(partition[0]) and names.ranks_by_prediction(node.args.get("order"))


def _only_window(scope: list[exp.Expression], window: exp.Window) -> bool:
    """Whether ``window`` is the one window function and there is no aggregate in ``scope``."""
    for node in scope:
        for found in node.find_all(exp.Window, exp.AggFunc):
            if found is not window and not (isinstance(found, exp.AggFunc) and found.parent is window):
                return False
    return True


def _hides_columns(select: exp.Select, names: _Names) -> bool:
    """A select-list alias named like the user or prediction column but not that column."""
    for projection in select.expressions:
        if isinstance(projection, exp.Alias) and projection.alias.lower() in (names.user, names.prediction):
            inner = projection.this
            if not (isinstance(inner, exp.Column) and inner.name.lower() == projection.alias.lower()):
                return True
    return False


def _qualify_limit(select: exp.Select, names: _Names) -> int | None:
    """``QUALIFY <rank> <= k``: the rank written there or as a select-list alias."""
    qualify = select.args.get("qualify")
    if qualify is None or _hides_columns(select, names):
        return None
    windows = [node for node in qualify.find_all(exp.Window)]
    aliases = {p.alias.lower(): p.this for p in select.expressions if isinstance(p, exp.Alias)}
    if not windows:  # QUALIFY rn <= k, rn a select-list alias of the ranking
        windows = [aliases[c.name.lower()] for c in qualify.find_all(exp.Column) if c.name.lower() in aliases]
    if len(windows) != 1 or not _ranking_window(windows[0], names):
        return None
    window = windows[0]
    if not _only_window([*select.expressions, qualify], window):
        return None

    def is_rank(node: exp.Expression) -> bool:
        return node is window or (isinstance(node, exp.Column) and not node.table and aliases.get(node.name.lower()) is window)

    return _rank_limit(qualify.this, is_rank)


def _outer_where_limit(select: exp.Select, names: _Names) -> int | None:
    """``SELECT … FROM (SELECT …, <rank> AS rn FROM ML.RECOMMEND(…)) WHERE rn <= k`` (or the
    inner SELECT as a WITH query read once)."""
    if any(select.args.get(arg) for arg in ("qualify", "limit", "offset")) or _hides_columns(select, names):
        return None  # a LIMIT before the outer WHERE would cut the full output elsewhere
    outer = _sole_reader(select)
    if outer is None or any(outer.args.get(a) for a in ("joins", "laterals")) or outer.args.get("where") is None:
        return None
    ranks = {p.alias.lower(): p for p in select.expressions if isinstance(p, exp.Alias) and _ranking_window(p.this, names)}
    if len(ranks) != 1 or not _only_window(select.expressions, next(iter(ranks.values())).this):
        return None
    (rank_name,) = ranks
    return _rank_limit(outer.args["where"].this, lambda node: isinstance(node, exp.Column) and node.name.lower() == rank_name)


def _array_agg_limit(select: exp.Select, names: _Names) -> int | None:
    """``GROUP BY <user>`` whose every other output is ``ARRAY_AGG(… ORDER BY <prediction> DESC LIMIT k)``."""
    group = select.args["group"]
    if select.args.get("qualify") or len(group.expressions) != 1 or not names.is_user(group.expressions[0]):
        return None
    limits = []
    for projection in select.expressions:
        node = projection.this if isinstance(projection, exp.Alias) else projection
        if names.is_user(node):
            continue
        limit = _aggregated_limit(node, names)
        if limit is None:
            return None
        limits.append(limit)
    return max(limits) if limits else None


def _aggregated_limit(node: exp.Expression, names: _Names) -> int | None:
    if not isinstance(node, exp.ArrayAgg) or not isinstance(node.this, exp.Limit):
        return None
    limit, order = node.this, node.this.this
    if not isinstance(order, exp.Order) or not names.ranks_by_prediction(order) or isinstance(order.this, exp.Distinct):
        return None
    if order.this is None or order.this.find(exp.Window, exp.AggFunc, exp.Subquery, exp.Query) is not None:
        return None
    return _constant(limit.expression)
