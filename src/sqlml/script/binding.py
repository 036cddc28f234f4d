"""Put script variables into a statement's tree as bound query parameters.

A name in a statement is a variable when a DECLAREd variable has it and no column of the
statement's tables or subqueries does (columns win, as in BigQuery). Each use becomes a named
parameter, cast to the variable's type, so values are bound by DuckDB and never pasted into SQL
text. ``row.field`` reads a field of a STRUCT variable (a ``FOR row IN (…)`` loop's row), and
``@@name`` / ``@@name.field`` read system variables.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope

from sqlml.script.variables import Scope as VariableScope, SystemVariables, Variable


def bind_variables(
    tree: exp.Expression, scope: VariableScope, system: SystemVariables, columns_of: Callable[[exp.Table], set[str]]
) -> tuple[exp.Expression, dict]:
    """``tree`` with variables replaced by parameters, and the parameters' values.

    Args:
        tree: a parsed statement (not modified).
        scope: the variables visible to it.
        system: the ``@@`` variables.
        columns_of: lower-case column names of a table the statement reads (empty if unknown).
    """
    tree = tree.copy()
    values: dict = {}
    _bind_system(tree, system, values)
    candidates = [(column, found) for column in tree.find_all(exp.Column) if (found := _variable_of(column, scope))]
    if not candidates:
        return tree, values
    shadowed = _real_columns(tree, columns_of) | _function_parameters(tree)
    for column, (variable, name, field_name) in candidates:
        if id(column) in shadowed:
            continue
        if field_name is None:
            parameter, value, sql_type = f"__v_{name.lower()}", variable.value, variable.type
        else:
            parameter = f"__v_{name.lower()}__{field_name.lower()}"
            value = (variable.value or {}).get(field_name) if isinstance(variable.value, dict) else None
            sql_type = _field_type(variable.type, field_name)
        values[parameter] = value
        replacement = _typed_parameter(parameter, sql_type)
        if isinstance(column.parent, exp.Select) and column.arg_key == "expressions":
            replacement = exp.alias_(replacement, field_name or name)  # SELECT x names its column x
        column.replace(replacement)
    return tree, values


def _variable_of(column: exp.Column, scope: VariableScope) -> tuple[Variable, str, str | None] | None:
    """(variable, its name, field) when ``column`` may name a variable or a field of one."""
    if column.db or column.catalog:
        return None
    if column.table:
        variable = scope.find(column.table)
        if variable is not None and (isinstance(variable.value, dict) or _field_type(variable.type, column.name) is not None):
            return variable, column.table, column.name
        return None
    variable = scope.find(column.name)
    return None if variable is None else (variable, column.name, None)


def _real_columns(tree: exp.Expression, columns_of: Callable[[exp.Table], set[str]]) -> set[int]:
    """Ids of the Column nodes of ``tree`` that name a column of a source in their own query
    scope (or an enclosing one), which shadows a variable of the same name.

    Scopes come from sqlglot's optimizer (``traverse_scope``); columns outside any query scope
    (UPDATE/DELETE conditions, DDL) are resolved against every table the statement names but an
    INSERT's target (``INSERT INTO t VALUES (n)`` reads the variable n whatever t's columns are).
    """
    real: set[int] = set()
    placed: set[int] = set()
    scopes = traverse_scope(tree) if tree.find(exp.Query) is not None else []
    for scope in scopes:
        aliases, names = set(), set()
        for alias, source in scope.sources.items():
            aliases.add(alias.lower())
            names |= _source_columns(source, columns_of)
        for unnest in scope.expression.find_all(exp.Unnest):
            alias = unnest.args.get("alias")
            if alias is not None:  # BigQuery: UNNEST(…) AS v names a column v
                names |= {alias.name.lower(), *(c.name.lower() for c in alias.columns)}
        selected = {name.lower() for name in getattr(scope.expression, "named_selects", [])}
        for column in scope.columns:
            placed.add(id(column))
            in_output_clause = column.find_ancestor(exp.Order, exp.Qualify, exp.Having) is not None
            if _resolves(column, aliases, names | selected if in_output_clause else names):
                real.add(id(column))
    target = {id(t) for t in tree.this.find_all(exp.Table)} if isinstance(tree, exp.Insert) and tree.this else set()
    tables = [t for t in tree.find_all(exp.Table) if t.name and id(t) not in target]  # INSERT's rows never read its target
    aliases = {t.alias_or_name.lower() for t in tables}
    names = set().union(*(columns_of(t) for t in tables)) if tables else set()
    for column in tree.find_all(exp.Column):
        if id(column) not in placed and _resolves(column, aliases, names):
            real.add(id(column))
    return real


def _function_parameters(tree: exp.Expression) -> set[int]:
    """Ids of the Column nodes of a CREATE FUNCTION's body that name one of its parameters: in
    ``CREATE TEMP FUNCTION f(y INT64) AS (y + 1)`` y is the argument, whatever variable y holds."""
    if not (isinstance(tree, exp.Create) and tree.kind == "FUNCTION" and isinstance(tree.this, exp.UserDefinedFunction)):
        return set()
    parameters = {p.name.lower() for p in tree.this.expressions if isinstance(p, exp.ColumnDef)}
    body = tree.expression
    return {id(c) for c in body.find_all(exp.Column) if not c.table and c.name.lower() in parameters} if body else set()


def _source_columns(source, columns_of: Callable[[exp.Table], set[str]]) -> set[str]:
    if isinstance(source, exp.Table):
        return columns_of(source)
    if isinstance(source, Scope):
        return {name.lower() for name in getattr(source.expression, "named_selects", [])}
    return set()


def _resolves(column: exp.Column, aliases: set[str], names: set[str]) -> bool:
    if column.table:
        return column.table.lower() in aliases
    return column.name.lower() in names


def system_variable_path(node: exp.Expression) -> list[str] | None:
    """``["error", "message"]`` for ``@@error.message``, ``["dataset_id"]`` for ``@@dataset_id``
    (how sqlglot reads them: a Parameter in a Parameter, then a Dot), None for anything else."""
    if isinstance(node, exp.Dot) and isinstance(node.this, exp.Parameter):
        head = system_variable_path(node.this)
        return None if head is None else [*head, node.expression.name]
    if isinstance(node, exp.Parameter) and isinstance(node.this, exp.Parameter):
        return [node.this.name]
    return None


def _bind_system(tree: exp.Expression, system: SystemVariables, values: dict) -> None:
    for parameter in list(tree.find_all(exp.Parameter)):
        if not isinstance(parameter.this, exp.Parameter):
            continue  # @name, a query parameter
        node = parameter
        if isinstance(parameter.parent, exp.Dot) and parameter.parent.this is parameter:
            node = parameter.parent
        path = system_variable_path(node)
        name = "__s_" + "_".join(p.lower() for p in path)
        values[name] = system.value(path)
        node.replace(exp.Parameter(this=exp.var(name)))


def _typed_parameter(name: str, sql_type: exp.DataType | None) -> exp.Expression:
    parameter = exp.Parameter(this=exp.var(name))
    return parameter if sql_type is None else exp.Cast(this=parameter, to=sql_type.copy())


def _field_type(sql_type: exp.DataType | None, field_name: str) -> exp.DataType | None:
    if sql_type is None or not sql_type.is_type(exp.DType.STRUCT):
        return None
    for member in sql_type.expressions:
        if member.name.lower() == field_name.lower() and isinstance(member.args.get("kind"), exp.DataType):
            return member.args["kind"]
    return None
