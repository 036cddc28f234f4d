"""The parser additions both of sqlml's dialects share (mixed in before the base dialect's Parser).

This module and :mod:`sqlml.sql.dialect` are the only ones that use sqlglot's private parser API
(``_parse_*``, ``_match*``, ``_tokens``); sqlglot changes it in minor releases, so it stays here,
pinned by ``tests/sql/test_dialect.py``'s round-trip corpus. What :class:`ParserAdditions` reads:

* the ML table functions (``ML.EVALUATE(MODEL m [, TABLE t | (query)] [, STRUCT(...)])`` and the
  rest of :data:`sqlml.sql.expressions.ML_FUNCTIONS`) with optional data arguments, which
  sqlglot's ``_parse_ml`` cannot express;
* ``ALTER MODEL … SET OPTIONS(...)``, ``ALTER {MATERIALIZED VIEW | SCHEMA} … SET OPTIONS(...)``, ``ALTER COLUMN … SET OPTIONS(...)``, ``EXPORT MODEL … OPTIONS(...)``, BigQuery's ``LOAD DATA`` and
  CREATE MODEL's ``AS (training_data AS (query), custom_holiday AS (query))``;
* BigQuery's ``SET x = expression``;
* the spans of options, queries and select-list items of CREATE MODEL, so that errors point at them;
* memos that keep sqlglot's re-reading of nested calls and types from taking exponential time.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.helper import seq_get
from sqlglot.tokens import TokenType

from sqlml.sql.alter_options import AlterColumnOptions
from sqlml.sql.expressions import ML_FUNCTIONS, AlterModel, ExportModel, LoadDataFiles, MLFunction, TrainingData
from sqlml.sql.function_arguments import BadArguments

# Names whose base-dialect parsers tell ML.NAME from a function of their own (sqlglot's
# _parse_translate, _parse_forecast: TRANSLATE(s, a, b), AI.FORECAST(…)).
_PREFIX_AWARE = {"TRANSLATE", "FORECAST"}

# Names before a dot that make a function call special: SAFE.f(…), NET.f(…), AI.f(…), ML.f(…).
_CALL_PREFIXES = {"SAFE", "NET", "AI", "ML"}

# ML table functions also spelled AI.<NAME>(MODEL m, …), kept as the same node with the prefix in
# its meta: AI.GENERATE_EMBEDDING is ML.GENERATE_EMBEDDING with simpler output column names.
# https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-ai-generate-embedding
_AI_SPELLED = {"GENERATE_EMBEDDING"}

# The two named queries of CREATE MODEL … AS (training_data AS (…), custom_holiday AS (…)).
_TRAINING_DATA_PARTS = ("TRAINING_DATA", "CUSTOM_HOLIDAY")


def json_literal(_parser, this: exp.Expression, _data_type: exp.DataType) -> exp.Expression:
    """``JSON '…'`` followed by subscripts or field accesses (``JSON '[1]'[0]``, ``JSON '{…}'.a``):
    sqlglot applies them to the string before it makes the JSON literal, reading JSON('[1]'[0]);
    they apply to the JSON value, as BigQuery's operators do.
    https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#json_subscript_operator"""
    string = this
    while isinstance(string, (exp.Bracket, exp.Dot)):
        string = string.this
    literal = exp.ParseJSON(this=string.copy(), is_literal=True)
    if string is this:
        return literal
    string.replace(literal)
    return this


#: BigQuery's TYPE_LITERAL_PARSERS entry for ``JSON '…'`` (sqlml.sql.dialect merges it).
JSON_LITERAL_PARSER = {exp.DType.JSON: json_literal}


class ParserAdditions:
    """Parser additions shared by both dialects (mixed in before the dialect's own Parser)."""

    def _parse_ml_function(self, node_type: type[MLFunction]) -> exp.Expression:
        # Only ML.<NAME>( is ours: a bare EVALUATE(x) stays an ordinary function call, and a
        # name the base dialect parses itself (AI.FORECAST, TRANSLATE(s, a, b)) stays its own.
        # The tokens before the current one are: ML . NAME (
        prefix = seq_get(self._tokens, self._index - 4)
        name_token = self._tokens[self._index - 2]
        spelled = prefix.text.upper() if prefix else ""
        if not (spelled == "ML" or (spelled == "AI" and node_type.function_name in _AI_SPELLED)):
            # AI.GENERATE_TEXT(MODEL m, …) and the other AI.<ML function>(MODEL m, …) spellings: the base
            # dialect's node when it has one, else ours; either way they parse, and are refused as calls
            # of Google-hosted models (they were "unexpected ')'")
            own = self._BASE_FUNCTION_PARSERS.get(name_token.text.upper()) if name_token.text.upper() in _PREFIX_AWARE or spelled == "AI" else None
            if own is not None:
                return own(self)
            if not (spelled == "AI" and self._match_text_seq("MODEL", advance=False)):
                return self.expression(exp.Anonymous(this=name_token.text, expressions=self._parse_csv(self._parse_lambda)))

        model = None
        if self._match_text_seq("MODEL"):
            model = self._parse_table_parts()
        elif node_type.requires_model:
            self.raise_error(f"Expected MODEL <name> as the first argument of ML.{node_type.function_name}")

        arguments = []
        if model is None and not self._match(TokenType.R_PAREN, advance=False):
            arguments.append(self._parse_ml_argument())
        while self._match(TokenType.COMMA):
            if model is None and not node_type.model_first and self._match_text_seq("MODEL"):
                # ML.VALIDATE_DATA_DRIFT(base, study, STRUCT(…), MODEL m): the model comes last
                model = self._parse_table_parts()
                continue
            arguments.append(self._parse_ml_argument())
        node = self.expression(node_type(this=model, expressions=arguments))
        node.meta["prefix"] = spelled
        return _with_position(node, prefix, name_token, self.sql)

    def _parse_generate_scalar(self) -> exp.Expression:
        name = self._tokens[self._index - 2].text
        if self._match_text_seq("MODEL", advance=False):
            return self._BASE_FUNCTION_PARSERS[name.upper()](self)
        return self.expression(exp.Anonymous(this=name, expressions=self._parse_csv(self._parse_lambda)))

    def _parse_ai_table_call(self) -> exp.Expression:
        name = self._tokens[self._index - 2].text
        prefix = seq_get(self._tokens, self._index - 4)
        argument = self._parse_ml_argument if prefix and prefix.text.upper() == "AI" else self._parse_lambda
        return self.expression(exp.Anonymous(this=name, expressions=self._parse_csv(argument)))

    def _parse_bracket(self, this=None):
        # sqlglot's BigQuery parser reads OFFSET(i) / ORDINAL(i) / SAFE_… in the outermost
        # subscript of a chain only: the inner one of a[OFFSET(0)][OFFSET(1)] stayed a call of a
        # function OFFSET, which DuckDB could not run
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/operators#array_subscript_operator
        bracket = super()._parse_bracket(this)
        offsets = getattr(self, "BRACKET_OFFSETS", {})
        inner = bracket.this if isinstance(bracket, exp.Bracket) else None
        while isinstance(inner, exp.Bracket) and offsets:
            position = inner.expressions[0] if len(inner.expressions) == 1 else None
            if isinstance(position, exp.Anonymous) and position.name.upper() in offsets and len(position.expressions) == 1:
                offset, safe = offsets[position.name.upper()]
                inner.set("offset", offset)
                inner.set("safe", safe)
                position.replace(position.expressions[0])
            inner = inner.this
        return bracket

    def _parse_function_call(self, *args, **kwargs):
        first = self._curr
        try:
            return super()._parse_function_call(*args, **kwargs)
        except BadArguments as error:  # DATE_ADD(), REGEXP_EXTRACT(): see function_arguments.py
            self.raise_error(error.message, first)

    def _parse_ml_argument(self) -> exp.Expression:
        if self._match(TokenType.TABLE):
            return self._parse_table_parts()
        if self._match(TokenType.L_PAREN, advance=False) and self._next and self._next.token_type in (
            TokenType.SELECT,
            TokenType.WITH,
            TokenType.FROM,
            TokenType.L_PAREN,
        ):
            return self._parse_table()
        return self._parse_lambda()  # an expression, or a named argument (time => …)

    def _parse_set_item_assignment(self, kind: str | None = None) -> exp.Expression | None:
        # BigQuery's SET assigns an expression (SET x = y, SET x = t.y), which sqlglot reads as a
        # keyword value: `y` becomes Var('y') and `t.y` loses its `t.`. Read the right side as an
        # expression instead. https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language#set
        if kind is not None:
            return super()._parse_set_item_assignment(kind)
        index = self._index
        left = self._parse_primary() or self._parse_column()
        if not left or not self._match_texts(self.SET_ASSIGNMENT_DELIMITERS):
            self._retreat(index)
            return None
        right = self._parse_assignment()
        if isinstance(left, exp.Paren):  # SET (a) = (x): a one-variable list
            left = exp.Tuple(expressions=[left.this])
            right = exp.Tuple(expressions=[right.this]) if isinstance(right, exp.Paren) else right
        return self.expression(exp.SetItem(this=self.expression(exp.EQ(this=left, expression=right))))

    def _parse_column_ops(self, this):
        # sqlglot reads SAFE.f(…), NET.f(…), AI.f(…) and ML.f(…) twice (as an anonymous call,
        # then again with f's own parser), so nested calls took 2^depth reads (12 levels of
        # SAFE.ABS(: 1.4 s). What was read at a token is the same every time: remember it.
        start = self._index
        prefixed = isinstance(this, exp.Column) and not this.table and this.name.upper() in _CALL_PREFIXES
        if prefixed and start in self._prefixed_calls:
            parsed, end = self._prefixed_calls[start]
            self._retreat(end)
            return parsed.copy()
        this = self._parse_column_ops_once(this)
        if prefixed:
            self._prefixed_calls[start] = (this.copy(), self._index)
        return this

    def _parse_column_ops_once(self, this):
        # DuckDB's parser reads ML.NAME(...) as an anonymous function; re-read it so that the
        # FUNCTION_PARSERS above fire (BigQuery's own parser already does this for ML./AI.).
        func_index = self._index + 1
        prefix = self._prev
        this = super()._parse_column_ops(this)
        if isinstance(this, exp.Dot) and isinstance(this.expression, exp.Func) and not isinstance(this.expression, MLFunction):
            if this.this.name.upper() == "ML" and func_index < len(self._tokens):
                _with_position(this.expression, prefix, self._tokens[func_index], self.sql)  # a scalar ML.NAME(…)
        if (
            isinstance(this, exp.Dot)
            and isinstance(this.expression, exp.Anonymous)
            and this.this.name.upper() == "ML"
            and this.expression.name.upper() in ML_FUNCTIONS
        ):
            self._retreat(func_index)
            parsed = self._parse_function(any_token=True)
            if parsed:
                this = self.expression(exp.Dot(this=this.this, expression=parsed))
        return this

    def reset(self):
        super().reset()
        self._failed_types = set()
        self._prefixed_calls = {}
        self._spans = False  # record the spans of queries and select-list items (CREATE MODEL)

    def _parse_types(self, check_func=False, schema=False, allow_identifiers=True, with_collation=False):
        # sqlglot reads STRUCT(…), DATE(…), NUMERIC(…) and JSON(…) first as a type with parameters
        # and, when that fails, again as a function call, so nested calls took 2^depth tries (20
        # levels of STRUCT(…): 60 s). A try that failed at a token fails there every time: remember it.
        key = (self._index, check_func, schema, allow_identifiers, with_collation)
        if key in self._failed_types:
            return None
        parsed = super()._parse_types(check_func, schema, allow_identifiers, with_collation)
        if parsed is None and self._index == key[0]:
            self._failed_types.add(key)
        return parsed

    def _parse_cast(self, strict, safe=None):
        # CAST(s AS TIMESTAMP FORMAT '…' [AT TIME ZONE z]) and CAST(s AS DATETIME FORMAT '…') both
        # become sqlglot's StrToTime, which then gave a DATETIME for either; a TIMESTAMP's is marked
        # with its target type (sqlml.sql.time_zones reads the civil time in z, UTC by default).
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_functions#cast_string_as_timestamp
        start = self._index
        parsed = super()._parse_cast(strict, safe)
        if isinstance(parsed, exp.StrToTime) and self._cast_type(start) == TokenType.TIMESTAMPTZ:
            parsed.set("target_type", exp.DataType.build("TIMESTAMPTZ"))
        return parsed

    def _cast_type(self, start: int):
        # the token type after the cast's own AS: the first AS outside brackets from its start
        depth = 0
        for position in range(start, self._index - 1):
            kind = self._tokens[position].token_type
            if kind in (TokenType.L_PAREN, TokenType.L_BRACKET):
                depth += 1
            elif kind in (TokenType.R_PAREN, TokenType.R_BRACKET):
                depth -= 1
            elif depth == 0 and kind == TokenType.ALIAS:
                return self._tokens[position + 1].token_type
        return None

    # sqlglot records positions for identifiers and literals only. The spans of an option's
    # ``name = value`` are recorded too, and in CREATE MODEL those of a query and of each
    # select-list item (``expr AS name``), so that errors about an option or a training column
    # point at it. Other statements never use them, so they do not pay for them.

    def _parse_create(self):
        self._spans = any(token.token_type == TokenType.MODEL for token in self._tokens[self._index : self._index + 4])
        try:
            return super()._parse_create()
        finally:
            self._spans = False

    def _parse_ddl_select(self):
        # CREATE MODEL's AS clause may name two queries instead of one (time-series models with
        # custom holidays). `(training_data AS (` cannot begin a query, so the two never clash;
        # _spans is on exactly while a CREATE MODEL is read, which keeps the form out of CREATE TABLE.
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-create-time-series#create_model_syntax
        part, alias = seq_get(self._tokens, self._index + 1), seq_get(self._tokens, self._index + 2)
        if (
            self._spans
            and self._match(TokenType.L_PAREN, advance=False)
            and part is not None
            and part.text.upper() in _TRAINING_DATA_PARTS
            and alias is not None
            and alias.token_type == TokenType.ALIAS
        ):
            return self._parse_training_data()
        return super()._parse_ddl_select()

    def _parse_training_data(self) -> TrainingData:
        self._match(TokenType.L_PAREN)
        queries = {}
        while not queries or self._match(TokenType.COMMA):
            if not self._match_texts(_TRAINING_DATA_PARTS):
                self.raise_error("Expected training_data AS (query) or custom_holiday AS (query)")
            part = self._prev.text.lower()
            if part in queries:
                self.raise_error(f"{part} AS (query) is given twice")
            self._match(TokenType.ALIAS)
            queries[part] = self._parse_wrapped(self._parse_ddl_select)
        self._match_r_paren()
        missing = [name.lower() for name in _TRAINING_DATA_PARTS if name.lower() not in queries]
        if missing:
            self.raise_error(f"Expected {missing[0]} AS (query) in CREATE MODEL … AS (training_data AS (…), custom_holiday AS (…))")
        return self.expression(TrainingData(this=queries["training_data"], custom_holiday=queries["custom_holiday"]))

    def _parse_key_value_property(self, parse_value=None, optional=False):
        first = self._curr
        return self._spanning(first, super()._parse_key_value_property(parse_value, optional))

    def _parse_select(self, *args, **kwargs):
        if not self._spans:
            return super()._parse_select(*args, **kwargs)
        first = self._curr
        return self._spanning(first, super()._parse_select(*args, **kwargs))

    def _parse_projections(self):
        if not self._spans:
            return super()._parse_projections()
        return self._parse_csv(self._parse_projection), None

    def _parse_projection(self):
        first = self._curr
        return self._spanning(first, self._parse_expression())

    def _spanning(self, first, node):
        if node is not None and first is not None and self._prev is not None and "start" not in node.meta:
            node.update_positions(line=first.line, col=first.col, start=first.start, end=self._prev.end)
        return node

    def _parse_table_parts(self, schema=False, is_db_reference=False, wildcard=False, fast=False):
        # A wildcard table's span is kept like an ML call's: errors about the tables it matches point at it.
        first = self._curr
        table = super()._parse_table_parts(schema, is_db_reference, wildcard, fast)
        if isinstance(table, exp.Table) and table.name.endswith("*") and first is not None:
            _with_position(table, first, self._prev, self.sql)
        if is_db_reference and isinstance(table, exp.Table):
            _split_quoted_dataset(table)
        return table

    def _parse_alter(self):
        if self._match_text_seq("MATERIALIZED", "VIEW"):
            return self._parse_alter_set_options("MATERIALIZED VIEW")
        if self._match(TokenType.SCHEMA):
            return self._parse_alter_set_options("SCHEMA")
        if not self._match_text_seq("MODEL"):
            return super()._parse_alter()
        exists = self._parse_exists()
        model = self._parse_table_parts()
        if not (self._match(TokenType.SET) and self._match_text_seq("OPTIONS")):
            self.raise_error("Expected SET OPTIONS(...) after ALTER MODEL <name>")
        options = self._parse_with_property()
        return self.expression(AlterModel(this=model, exists=exists, expressions=options))

    def _parse_alter_set_options(self, kind: str):
        # ALTER {MATERIALIZED VIEW | SCHEMA} [IF EXISTS] name SET OPTIONS(…), which sqlglot leaves a
        # Command: the same tree as ALTER TABLE … SET OPTIONS. Other ALTER SCHEMA forms stay Commands.
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#alter_schema_set_options_statement
        start = self._tokens[self._index - (3 if kind == "MATERIALIZED VIEW" else 2)]
        exists = self._parse_exists()
        this = self._parse_table_parts(is_db_reference=kind == "SCHEMA")
        if not (self._match(TokenType.SET) and self._match_text_seq("OPTIONS")):
            return self._parse_as_command(start)
        options = exp.Properties(expressions=self._parse_with_property())
        return self.expression(exp.Alter(this=this, kind=kind, exists=exists, actions=[exp.AlterSet(expressions=[options])]))

    def _parse_alter_table_alter(self):
        # ALTER COLUMN [IF EXISTS] c SET OPTIONS(description=…), which sqlglot reads as a Command
        # https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#alter_column_set_options_statement
        index = self._index
        self._match(TokenType.COLUMN)
        exists = self._parse_exists()
        column = self._parse_field(any_token=True)
        if self._match(TokenType.SET) and self._match_text_seq("OPTIONS"):
            options = exp.Properties(expressions=self._parse_with_property())
            return self.expression(AlterColumnOptions(this=column, exists=exists, expressions=[options]))
        self._retreat(index)
        return super()._parse_alter_table_alter()

    def _parse_export_data(self):
        if not self._match_text_seq("MODEL"):
            if hasattr(super(), "_parse_export_data"):
                return super()._parse_export_data()
            return self._parse_as_command(self._prev)
        model = self._parse_table_parts()
        options = self._parse_with_property() if self._match_text_seq("OPTIONS") else []
        return self.expression(ExportModel(this=model, expressions=options))

    def _parse_load(self):
        # BigQuery's LOAD DATA {INTO|OVERWRITE} …, with the clauses sqlglot's own LOAD DATA (Hive's) lacks;
        # anything else (DuckDB's LOAD extension) stays the base dialect's.
        index = self._index
        if not (self._match_text_seq("DATA") and self._match_set((TokenType.INTO, TokenType.OVERWRITE))):
            self._retreat(index)
            return super()._parse_load()
        overwrite = self._prev.token_type == TokenType.OVERWRITE
        temp = self._match(TokenType.TEMPORARY) and self._match(TokenType.TABLE)
        table = self._parse_schema(this=self._parse_table_parts(schema=True))
        properties = self._parse_properties()
        if not self._match_text_seq("FROM", "FILES"):
            self.raise_error("Expected FROM FILES(format=…, uris=[…]) in LOAD DATA")
        files = exp.Properties(expressions=self._parse_wrapped_properties())
        partition_columns = connection = None
        if self._match_text_seq("WITH", "PARTITION", "COLUMNS"):
            columns = self._parse_wrapped_csv(self._parse_field_def) if self._match(TokenType.L_PAREN, advance=False) else []
            partition_columns = exp.Schema(expressions=columns)
        if self._match_text_seq("WITH", "CONNECTION"):
            connection = self._parse_table_parts()
        return self.expression(LoadDataFiles(this=table, overwrite=overwrite, temp=bool(temp), properties=properties, files=files,
                                             partition_columns=partition_columns, connection=connection))  # fmt: skip


def _with_position(node: exp.Expression, first, last, sql: str | None) -> exp.Expression:
    """``node`` with the span from token ``first`` to ``last`` in its meta (line, col, start,
    end) and the text of that line, so that an error about the call can point at it."""
    node.update_positions(first)
    node.meta["end"] = last.end
    if sql:
        line_start = sql.rfind("\n", 0, first.start) + 1
        line_end = sql.find("\n", first.start)
        node.meta["source_line"] = sql[line_start : line_end if line_end >= 0 else len(sql)]
        node.meta["col"] = first.start - line_start + 1  # a token's own col is where it ends
    return node


def _split_quoted_dataset(table: exp.Table) -> None:
    """Split a dataset named in one pair of backticks, ``CREATE SCHEMA `project.dataset```, into
    project and dataset, as BigQuery reads it and as sqlglot already splits `project.dataset.table`
    (its BigQuery parser leaves a dataset reference whole, so the schema was named "project.dataset").
    https://cloud.google.com/bigquery/docs/reference/standard-sql/data-definition-language#create_schema_statement
    """
    db = table.args.get("db")
    if table.this is None and table.args.get("catalog") is None and isinstance(db, exp.Identifier) and db.name.count(".") == 1:
        project, dataset = db.name.split(".")
        table.set("catalog", exp.to_identifier(project, quoted=True).update_positions(db))
        table.set("db", exp.to_identifier(dataset, quoted=True).update_positions(db))


#: ``FUNCTION_PARSERS`` entries for the ML table functions, by bare name (the parser checks the ``ML.`` prefix).
ML_FUNCTION_PARSERS = {
    name: (lambda node_type: lambda self: self._parse_ml_function(node_type))(node_type)
    for name, node_type in ML_FUNCTIONS.items()
}
# AI.GENERATE_BOOL / _INT / _DOUBLE(prompt, connection_id => …, endpoint => …), BigQuery's scalar
# form, which sqlglot reads only as the (MODEL m, (query)) table form: "unexpected '=>'"
# https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-ai-generate-bool
ML_FUNCTION_PARSERS.update({name: lambda self: self._parse_generate_scalar() for name in ("GENERATE_BOOL", "GENERATE_INT", "GENERATE_DOUBLE")})
# AI.SEARCH(TABLE t, column, query, …) takes a TABLE argument, which a plain call cannot hold: a
# syntax error instead of the refusal of a Google-hosted call; SEARCH(…) alone is text search
# https://cloud.google.com/bigquery/docs/reference/standard-sql/search_functions#ai_search
ML_FUNCTION_PARSERS["SEARCH"] = lambda self: self._parse_ai_table_call()
