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

from sqlml.script.variables import Scope, SystemVariables, Variable


def bind_variables(
    tree: exp.Expression, scope: Scope, system: SystemVariables, columns_of: Callable[[exp.Table], set[str]]
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
    candidates = [c for c in tree.find_all(exp.Column) if _variable_of(c, scope) is not None]
    if not candidates:
        return tree, values
    shadowing = _column_names(tree, columns_of)
    for column in candidates:
        variable, name, field_name = _variable_of(column, scope)
        if column.table and (column.table.lower() in shadowing["tables"]):
            continue
        if not column.table and name.lower() in shadowing["columns"]:
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


def _variable_of(column: exp.Column, scope: Scope) -> tuple[Variable, str, str | None] | None:
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


def _column_names(tree: exp.Expression, columns_of: Callable[[exp.Table], set[str]]) -> dict[str, set[str]]:
    """Names that are columns or tables in ``tree``, which shadow variables of the same name."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    columns: set[str] = set()
    tables: set[str] = set(ctes)
    for table in tree.find_all(exp.Table):
        if table.alias:
            tables.add(table.alias.lower())
        if table.name:
            tables.add(table.name.lower())
        if table.name and table.name.lower() not in ctes:
            columns |= columns_of(table)
    for alias in tree.find_all(exp.TableAlias):
        if alias.name:
            tables.add(alias.name.lower())
        columns |= {c.name.lower() for c in alias.columns}
    root = tree if isinstance(tree, exp.Query) else tree.find(exp.Query)
    for select in tree.find_all(exp.Select):
        if select is root:
            continue  # the outer select's outputs are not visible to its own clauses as columns
        columns |= {projection.alias_or_name.lower() for projection in select.expressions}
    return {"columns": columns, "tables": tables}


def _bind_system(tree: exp.Expression, system: SystemVariables, values: dict) -> None:
    for parameter in list(tree.find_all(exp.Parameter)):
        if not isinstance(parameter.this, exp.Parameter):
            continue  # @name, a query parameter
        path = [parameter.this.name]
        node = parameter
        if isinstance(parameter.parent, exp.Dot) and parameter.parent.this is parameter:
            node = parameter.parent
            path.append(node.expression.name)
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
