"""The scripting interpreter: BigQuery's procedural language over the executor's statements.

It walks the :class:`~sqlml.sql.script.Node` tree :mod:`sqlml.sql.script` builds: blocks with
their own variables and ``EXCEPTION WHEN ERROR`` handlers, IF/CASE, the four loops with labels,
and the procedural statements of :mod:`sqlml.sql.procedural`. Every SQL statement and every
expression (an IF condition, a SET value) runs through the executor with the variables bound as
parameters (:mod:`sqlml.script.binding`), so ML functions work in them as anywhere else.

https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlglot import exp

from sqlml.engine.base import EngineError
from sqlml.errors import Cancelled, Error, ScriptError, SqlTypeError
from sqlml.execution.context import ScriptRun, rollback
from sqlml.result import Result
from sqlml.script.binding import bind_variables, system_variable_path
from sqlml.script.procedures import call, define
from sqlml.script.variables import Scope, SystemVariables, Variable, value_type
from sqlml.sql.diagnostics import location_of
from sqlml.sql.nodes import Block, Case, If, Loop, Node, ProcedureDefinition, Statement
from sqlml.sql.planner import node_kind
from sqlml.sql.procedural import Assert, Call, ExecuteImmediate, Jump, Raise, Return
from sqlml.sql.script import ScriptParser

if TYPE_CHECKING:
    from sqlml.execution.executor import Executor


class _Jump(Exception):
    """BREAK/LEAVE (``leave``) or CONTINUE/ITERATE travelling to its loop or block."""

    def __init__(self, leave: bool, label: str | None, where):
        super().__init__(label)
        self.leave, self.label, self.where = leave, label, where

    def targets(self, label: str | None, is_loop: bool) -> bool:
        if self.label is None:
            return is_loop
        return label is not None and label.lower() == self.label.lower()


class _Return(Exception):
    """RETURN: leave the procedure or script."""


class Interpreter:
    """Runs procedural nodes for one executor.

    Args:
        executor: runs the SQL statements.
        run: the script run (its parser, for positions and statement parsing).
        system: the ``@@`` variables, shared with procedures this script calls.
        depth: how many procedure calls deep it runs (0 for a script).
    """

    def __init__(self, executor: Executor, run: ScriptRun, system: SystemVariables, depth: int = 0):
        self.executor = executor
        self.run = run
        self.system = system
        self.depth = depth
        self.result = Result.empty()
        self._handling: list[Error] = []
        self._top: Node | None = None  # the top-level node: its query result may stay lazy
        self._current: Node | None = None  # the statement running, for @@error.statement_text

    # -- entry points ------------------------------------------------------------------------

    def run_top(self, node: Node, scope: Scope) -> Result:
        """Run one top-level node; RETURN ends it quietly. Returns the last statement's result."""
        self._top = node
        try:
            self.execute(node, scope)
        except _Return:
            pass
        except _Jump as jump:
            statement = " ".join(filter(None, ["BREAK" if jump.leave else "CONTINUE", jump.label]))
            raise ScriptError(f"{statement} is not inside a matching loop or block.", location=jump.where) from None
        return self.result

    def execute(self, node: Node, scope: Scope) -> None:
        """Run one node in ``scope``."""
        if self.executor.cancel.is_set():
            raise Cancelled("The script was cancelled.")
        if isinstance(node, Block):
            self._block(node, scope)
        elif isinstance(node, If):
            self._if(node, scope)
        elif isinstance(node, Case):
            self._case(node, scope)
        elif isinstance(node, Loop):
            self._loop(node, scope)
        elif isinstance(node, ProcedureDefinition):
            self.replace_result(define(self, node))
        elif isinstance(node, Statement):
            self._statement(node, scope)
        else:  # pragma: no cover - the parser makes no other nodes
            raise ScriptError(f"Unexpected script node {type(node).__name__}")

    def execute_all(self, nodes: list[Node], scope: Scope) -> None:
        """Run ``nodes`` in order in ``scope``."""
        for node in nodes:
            self.execute(node, scope)

    # -- blocks and control flow -------------------------------------------------------------

    def _block(self, block: Block, scope: Scope) -> None:
        inner = Scope(scope)
        try:
            try:
                self.execute_all(block.body, inner)
            except Error as error:
                if block.handler is None or isinstance(error, Cancelled):
                    raise
                self._handle(error, block, scope)
        except _Jump as jump:
            if not (jump.leave and jump.targets(block.label, is_loop=False)):
                raise

    def _handle(self, error: Error, block: Block, scope: Scope) -> None:
        rollback(self.executor)  # a failed statement inside a transaction ends it
        self.system.error = {
            "message": error.message,
            "statement_text": self._statement_text(),
            "stack_trace": [],
            "formatted_stack_trace": str(error),
        }
        self._handling.append(error)
        try:
            self.execute_all(block.handler, Scope(scope))
        finally:
            self._handling.pop()

    def _if(self, node: If, scope: Scope) -> None:
        for condition, body in node.branches:
            if self._truth(self.run.parser.parse_expression(condition, node.number), scope, node):
                self.execute_all(body, scope)
                return
        if node.otherwise is not None:
            self.execute_all(node.otherwise, scope)

    def _case(self, node: Case, scope: Scope) -> None:
        parse = lambda tokens: self.run.parser.parse_expression(tokens, node.number)  # noqa: E731
        subject = parse(node.subject) if node.subject else None
        for when, body in node.branches:
            condition = parse(when) if subject is None else exp.EQ(this=subject.copy(), expression=parse(when).copy())
            if self._truth(condition, scope, node):
                self.execute_all(body, scope)
                return
        if node.otherwise is not None:
            self.execute_all(node.otherwise, scope)

    def _loop(self, node: Loop, scope: Scope) -> None:
        parse = lambda: self.run.parser.parse_expression(node.condition, node.number)  # noqa: E731
        if node.kind == "FOR":
            query = parse()
            rows = self._rows(query.this if isinstance(query, (exp.Subquery, exp.Paren)) else query, scope, node)
            iterations = iter(rows)
        else:
            iterations = None
        condition = parse() if node.kind in ("WHILE", "REPEAT") else None
        while True:
            if node.kind == "WHILE" and not self._truth(condition, scope, node):
                return
            inner = scope
            if iterations is not None:
                row = next(iterations, None)
                if row is None:
                    return
                inner = Scope(scope)
                inner.declare(node.variable, Variable(row))
            try:
                self.execute_all(node.body, inner)
            except _Jump as jump:
                if not jump.targets(node.label, is_loop=True):
                    raise
                if jump.leave:
                    return
            if node.kind == "REPEAT" and self._truth(condition, scope, node):
                return
            if self.executor.cancel.is_set():
                raise Cancelled("The script was cancelled.")

    # -- statements --------------------------------------------------------------------------

    def _statement(self, node: Statement, scope: Scope) -> None:
        if node_kind(node) is None:  # a SQL statement
            result = self.run_tree(self.run.parser.parse_statement(node), node, scope)
            self.replace_result(result)
            self.system.row_count = result.rowcount if result.rowcount >= 0 else None  # DML only
            self.system.script["num_child_jobs"] += 1
            if node is not self._top:
                result.arrow()  # inside a block a query runs now, so its errors reach the block's handler
            return
        where = location_of(node.first, self.run.parser.sql, node.number, self.run.parser.path)
        try:
            parsed = self.run.parser.parse_statement(node)
            self._procedural(parsed, node, scope, where)
            self.system.row_count = None
        except Error as error:
            raise error.with_location(where) from None

    def _procedural(self, parsed, node: Statement, scope: Scope, where) -> None:
        if isinstance(parsed, exp.Declare):
            self._declare(parsed, node, scope)
        elif isinstance(parsed, exp.Set):
            self._set(parsed, node, scope)
        elif isinstance(parsed, Assert):
            if not self._truth(parsed.condition, scope, node):
                text = parsed.description if parsed.description is not None else parsed.condition.sql(dialect=self.executor.dialect_class)
                raise ScriptError(f"Assertion failed: {text}", location=where)
        elif isinstance(parsed, Raise):
            if parsed.message is None:
                if not self._handling:
                    raise ScriptError("RAISE without a message is only allowed in an exception handler.", location=where)
                raise self._handling[-1]
            message, sql_type = self.evaluate(parsed.message, scope, node)
            if message is not None and not isinstance(message, str):  # BigQuery takes a STRING only
                written = sql_type.sql(dialect="bigquery") if sql_type is not None else type(message).__name__
                raise SqlTypeError(f"RAISE USING MESSAGE needs a STRING, not {written}.",
                                   hint="Convert the value: RAISE USING MESSAGE = FORMAT('%T', value).", location=where)
            raise ScriptError(str(message), location=where)
        elif isinstance(parsed, Jump):
            raise _Jump(parsed.leave, parsed.label, where)
        elif isinstance(parsed, Return):
            raise _Return()
        elif isinstance(parsed, ExecuteImmediate):
            self._execute_immediate(parsed, node, scope)
        elif isinstance(parsed, Call):
            call(self, parsed, node, scope)

    def _declare(self, tree: exp.Declare, node: Statement, scope: Scope) -> None:
        for item in tree.expressions:
            names = [identifier.name for identifier in item.this]
            declared = item.args.get("kind")
            value, sql_type = None, declared if isinstance(declared, exp.DataType) else None
            default = item.args.get("default")
            if isinstance(default, exp.Expression):
                value, inferred = self.evaluate(default, scope, node, cast=sql_type)
                sql_type = sql_type or inferred
            for name in names:
                scope.declare(name, Variable(value, sql_type), script=self.run)

    def _set(self, tree: exp.Set, node: Statement, scope: Scope) -> None:
        for item in tree.expressions:
            assignment = item.this
            if not isinstance(assignment, exp.EQ):
                raise ScriptError("Expected SET <variable> = <expression>.")
            target, source = assignment.this, assignment.expression
            path = system_variable_path(target)
            if path is not None:  # SET @@dataset_id = 'ds'
                self.system.assign(path, self.evaluate(source, scope, node)[0])
                continue
            if isinstance(target, exp.Tuple):
                names = [column.name for column in target.expressions]
                values = self._tuple_values(source, len(names), scope, node)
                for name, value in zip(names, values):
                    self._assign(name, value, scope)
                continue
            variable = scope.get(target.name)
            value, inferred = self.evaluate(source, scope, node, cast=variable.type)
            variable.value = value
            variable.type = variable.type or inferred

    def _tuple_values(self, source: exp.Expression, count: int, scope: Scope, node: Node) -> list:
        if isinstance(source, exp.Tuple):
            values = [self.evaluate(part, scope, node)[0] for part in source.expressions]
        else:
            query = source.this if isinstance(source, exp.Subquery) else source
            query = query.copy()
            query.set("kind", None)  # SELECT AS STRUCT a, b: the columns are the values
            rows = self._rows(query, scope, node)
            if len(rows) > 1:
                raise ScriptError("SET (…) = (SELECT …) returned more than one row.", hint="Add a WHERE or LIMIT 1.")
            values = list(rows[0].values()) if rows else [None] * count
        if len(values) != count:
            raise ScriptError(f"SET assigns {count} variable(s) but the value has {len(values)}.")
        return values

    def _assign(self, name: str, value, scope: Scope) -> None:
        scope.get(name).value = value

    def _execute_immediate(self, statement: ExecuteImmediate, node: Statement, scope: Scope) -> None:
        text, _ = self.evaluate(statement.sql, scope, node)
        if not isinstance(text, str):
            raise ScriptError("EXECUTE IMMEDIATE needs a STRING with the SQL to run.")
        parser = ScriptParser(text, self.executor.dialect_class, path="EXECUTE IMMEDIATE")
        nodes = parser.nodes()
        if len(nodes) != 1 or not isinstance(nodes[0], Statement):
            raise ScriptError("EXECUTE IMMEDIATE runs exactly one SQL statement.", hint="Split the string into several EXECUTE IMMEDIATE statements.")
        if nodes[0].verb in ("CALL", "EXECUTE"):
            # https://cloud.google.com/bigquery/docs/multi-statement-queries#security_constraints — "The following
            # commands are restricted from being executed dynamically: BEGIN/END, CALL, CASE, IF, LOOP, WHILE, and
            # EXECUTE IMMEDIATE." (blocks are refused above: they are not one statement)
            verb = " ".join(token.text.upper() for token in nodes[0].tokens[:2]) if nodes[0].verb == "EXECUTE" else "CALL"
            raise ScriptError(f"EXECUTE IMMEDIATE cannot run {verb}.", hint=f"Write the {verb} statement in the script itself.")
        named, positional = {}, []
        for value_expression, alias in statement.using:
            value, _ = self.evaluate(value_expression, scope, node)
            if alias:
                named[alias] = value
            else:
                positional.append(value)
        inner = Interpreter(self.executor, ScriptRun(parser=parser, named=named, positional=positional), self.system)
        inner.execute(nodes[0], scope)
        self.replace_result(inner.result)
        if statement.into:
            rows = inner.result.fetchall()
            if len(rows) != 1:
                raise ScriptError(f"EXECUTE IMMEDIATE … INTO needs exactly one row; the query returned {len(rows)}.")
            if len(rows[0]) < len(statement.into):
                raise ScriptError(f"INTO names {len(statement.into)} variable(s) but the query returns {len(rows[0])} column(s).")
            for name, value in zip(statement.into, rows[0]):
                self._assign(name, value, scope)

    # -- running SQL -------------------------------------------------------------------------

    def run_tree(self, tree: exp.Expression, node: Node, scope: Scope) -> Result:
        """Run one statement tree with the variables of ``scope`` bound."""
        bound, values = bind_variables(tree, scope, self.system, self._columns_of)
        self._current = node
        self.result.close()
        return self.executor.execute_tree(bound, node, self.run, keep_result=True, params=values)

    def evaluate(self, expression: exp.Expression, scope: Scope, node: Node, cast: exp.DataType | None = None) -> tuple[Any, exp.DataType | None]:
        """The value of one expression and its SQL type (None when unknown)."""
        value = expression.copy() if cast is None else exp.Cast(this=expression.copy(), to=cast.copy())
        inner = exp.select(exp.alias_(value, "v")).subquery("_sqlml_value")
        query = exp.select(exp.column("v"), exp.alias_(exp.Anonymous(this="typeof", expressions=[exp.column("v")]), "t")).from_(inner)
        result = self.run_tree(query, node, scope)
        try:
            rows = result.fetchall()
        finally:
            result.close()
        if len(rows) != 1:
            raise ScriptError(f"The expression returned {len(rows)} rows; a variable holds one value.")
        return rows[0][0], value_type(rows[0][1])

    def _truth(self, condition: exp.Expression, scope: Scope, node: Node) -> bool:
        """Whether a condition (IF, ELSEIF, CASE's WHEN, WHILE, UNTIL, ASSERT) holds: only TRUE
        does, NULL and FALSE do not. A condition must be a BOOL, as BigQuery requires — taking any
        other value as not TRUE would make `REPEAT … UNTIL 1` loop forever."""
        value, sql_type = self.evaluate(condition, scope, node)
        if value is not None and not isinstance(value, bool):
            written = sql_type.sql(dialect="bigquery") if sql_type is not None else type(value).__name__
            raise SqlTypeError(f"A condition must be a BOOL, not {written}: {condition.sql(dialect='bigquery')}",
                               hint="Compare the value, e.g. `x != 0` or `x IS NOT NULL`.",
                               location=location_of(node.first, self.run.parser.sql, node.number, self.run.parser.path))
        return value is True

    def _rows(self, query: exp.Expression, scope: Scope, node: Node) -> list[dict]:
        result = self.run_tree(query, node, scope)
        try:
            return result.arrow().to_pylist()
        finally:
            result.close()

    def call_procedure(self, run: ScriptRun, body: Node, scope: Scope) -> Result:
        """Run a called procedure's ``body`` one call deeper in its own ``scope``; RETURN ends it."""
        callee = Interpreter(self.executor, run, self.system, self.depth + 1)
        try:
            callee.execute(body, scope)
        except _Return:
            pass
        return callee.result

    def replace_result(self, result: Result) -> None:
        """Make ``result`` the script's latest result, closing the one it replaces."""
        if result is not self.result:
            self.result.close()
        self.result = result

    def _columns_of(self, table: exp.Table) -> set[str]:
        """Lower-case column names of a table or view the statement reads.

        Looked up for each statement, not cached: an earlier statement of the script may have
        created or changed the table.
        """
        try:
            with self.executor.engine.lease() as cursor:
                return {column.lower() for column, _ in cursor.table_columns(table.db or None, table.name)}
        except EngineError:
            return set()

    def _statement_text(self) -> str | None:
        if self._current is None:
            return None
        tokens = self._current.tokens
        return self.run.parser.sql[tokens[0].start : tokens[-1].end + 1]
