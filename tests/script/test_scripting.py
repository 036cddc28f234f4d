"""BigQuery scripting: each construct of the procedural language, with the values BigQuery gives."""

from __future__ import annotations

import datetime
import decimal

import pyarrow as pa
import pytest

import sqlml


def rows(con, sql: str) -> list[tuple]:
    return con.query(sql).fetchall()


def test_declare_with_default_type_and_null(con):
    assert rows(con, "DECLARE a INT64 DEFAULT 5; DECLARE b, c STRING; DECLARE d DEFAULT DATE '2026-01-31'; SELECT a, b, c, d") == [
        (5, None, None, datetime.date(2026, 1, 31))
    ]


def test_variables_keep_their_type(con):
    # An INT64 variable holds values past 32 bits; a NUMERIC one stays exact.
    result = con.query(
        "DECLARE big DEFAULT 3000000000; DECLARE price NUMERIC DEFAULT 0.1; SET big = big * 2; SELECT big, price * 3 AS total"
    )
    assert result.fetchall() == [(6000000000, decimal.Decimal("0.3"))]
    assert result.arrow().schema.field("big").type == pa.int64()


def test_set_single_and_multiple_variables(con):
    assert rows(con, "DECLARE x, y INT64; SET x = 2; SET (x, y) = (SELECT AS STRUCT x + 1, 10); SELECT x, y") == [(3, 10)]
    assert rows(con, "DECLARE p, q STRING; SET (p, q) = ('a', 'b'); SELECT p || q") == [("ab",)]


def test_set_undeclared_variable_is_an_error(con):
    with pytest.raises(sqlml.ScriptError, match="Unrecognized variable nope"):
        con.query("SET nope = 1")


def test_declaring_twice_in_one_block_is_an_error(con):
    with pytest.raises(sqlml.ScriptError, match="already declared"):
        con.query("DECLARE x INT64; DECLARE x STRING;")


def test_columns_take_precedence_over_variables(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 1 AS id, 'col' AS name")
    assert rows(con, "DECLARE name STRING DEFAULT 'var'; DECLARE id INT64 DEFAULT 7; SELECT name, id FROM ds.t") == [("col", 1)]
    assert rows(con, "SELECT name, id") == [("var", 7)]  # top-level variables live on in the session


def test_if_elseif_else(con):
    script = """
    DECLARE n INT64 DEFAULT {n};
    DECLARE label STRING;
    IF n < 0 THEN SET label = 'negative';
    ELSEIF n = 0 THEN SET label = 'zero';
    ELSE SET label = 'positive';
    END IF;
    SELECT label;
    """
    assert [rows(con, script.format(n=n))[0][0] for n in (-3, 0, 4)] == ["negative", "zero", "positive"]


def test_procedural_case(con):
    script = """
    DECLARE kind STRING DEFAULT '{kind}';
    DECLARE score INT64;
    CASE kind WHEN 'gold' THEN SET score = 3; WHEN 'silver' THEN SET score = 2; ELSE SET score = 0; END CASE;
    SELECT score;
    """
    assert [rows(con, script.format(kind=k))[0][0] for k in ("gold", "silver", "tin")] == [3, 2, 0]


def test_while_with_break_and_continue(con):
    script = """
    DECLARE i INT64 DEFAULT 0;
    DECLARE total INT64 DEFAULT 0;
    WHILE i < 10 DO
      SET i = i + 1;
      IF MOD(i, 2) = 0 THEN CONTINUE; END IF;
      IF i > 7 THEN BREAK; END IF;
      SET total = total + i;
    END WHILE;
    SELECT i, total;
    """
    assert rows(con, script) == [(9, 1 + 3 + 5 + 7)]


def test_loop_leave_and_repeat_until(con):
    assert rows(con, "DECLARE i INT64 DEFAULT 0; LOOP SET i = i + 1; IF i >= 4 THEN LEAVE; END IF; END LOOP; SELECT i") == [(4,)]
    assert rows(con, "DECLARE j INT64 DEFAULT 10; REPEAT SET j = j - 3; UNTIL j < 0 END REPEAT; SELECT j") == [(-2,)]


def test_labels_break_out_of_the_outer_loop(con):
    script = """
    DECLARE i, j, visits INT64 DEFAULT 0;
    outer_loop: LOOP
      SET i = i + 1;
      SET j = 0;
      inner_loop: LOOP
        SET j = j + 1;
        SET visits = visits + 1;
        IF j = 2 THEN ITERATE outer_loop; END IF;
        IF i = 3 THEN BREAK outer_loop; END IF;
      END LOOP inner_loop;
    END LOOP outer_loop;
    SELECT i, visits;
    """
    # i=1: j=1,2 (continue outer); i=2: j=1,2; i=3: j=1 then break: 5 visits
    assert rows(con, script) == [(3, 5)]


def test_for_in_query_reads_row_fields(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.sales AS SELECT 'a' AS k, 2 AS v UNION ALL SELECT 'b', 5 UNION ALL SELECT 'a', 4")
    script = """
    DECLARE summary STRING DEFAULT '';
    FOR row IN (SELECT k, SUM(v) AS total FROM ds.sales GROUP BY k ORDER BY k) DO
      SET summary = CONCAT(summary, row.k, '=', CAST(row.total AS STRING), ';');
    END FOR;
    SELECT summary;
    """
    assert rows(con, script) == [("a=6;b=5;",)]


def test_nested_blocks_scope_their_variables(con):
    script = """
    DECLARE x INT64 DEFAULT 1;
    BEGIN
      DECLARE x INT64 DEFAULT 2;
      DECLARE inner_only INT64 DEFAULT 3;
      SET x = x + inner_only;
    END;
    SELECT x;
    """
    assert rows(con, script) == [(1,)]
    with pytest.raises(sqlml.Error, match="inner_only"):
        con.query("BEGIN DECLARE inner_only INT64 DEFAULT 3; END; SELECT inner_only")


def test_labelled_block_leave(con):
    assert rows(con, "DECLARE v INT64 DEFAULT 0; b: BEGIN SET v = 1; LEAVE b; SET v = 2; END b; SELECT v") == [(1,)]


def test_exception_handler_sees_error_message_and_statement(con):
    script = """
    DECLARE message, statement STRING;
    BEGIN
      SELECT 1;
      SELECT ERROR('disk on fire');
      SET message = 'not reached';
    EXCEPTION WHEN ERROR THEN
      SET (message, statement) = (@@error.message, @@error.statement_text);
    END;
    SELECT message, statement;
    """
    assert rows(con, script) == [("disk on fire", "SELECT ERROR('disk on fire')")]


def test_raise_in_handler_rethrows_and_unhandled_raise_ends_the_script(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.log (step STRING)")
    with pytest.raises(sqlml.ScriptError, match="custom failure 42") as failure:
        con.query(
            """
            INSERT INTO ds.log VALUES ('before');
            RAISE USING MESSAGE = FORMAT('custom failure %d', 42);
            INSERT INTO ds.log VALUES ('after');
            """
        )
    assert failure.value.location.line == 3
    assert rows(con, "SELECT step FROM ds.log") == [("before",)]
    with pytest.raises(sqlml.Error, match="Table with name nowhere does not exist|nowhere"):
        con.query("BEGIN SELECT * FROM ds.nowhere; EXCEPTION WHEN ERROR THEN RAISE; END")


def test_assert(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT * FROM UNNEST([1, 2, 3]) AS v")
    con.query("ASSERT (SELECT COUNT(*) FROM ds.t) = 3 AS 'three rows'")
    with pytest.raises(sqlml.ScriptError, match="Assertion failed: expected more than 5 rows"):
        con.query("ASSERT (SELECT COUNT(*) FROM ds.t) > 5 AS 'expected more than 5 rows'")
    with pytest.raises(sqlml.ScriptError, match="Assertion failed"):
        con.query("ASSERT FALSE")


def test_execute_immediate_with_into_and_using(con):
    script = """
    DECLARE doubled INT64;
    DECLARE greeting STRING;
    EXECUTE IMMEDIATE 'SELECT ? * 2, CONCAT(@word, "!")' INTO doubled, greeting USING 21, 'hi' AS word;
    SELECT doubled, greeting;
    """
    assert rows(con, script) == [(42, "hi!")]
    con.query("CREATE SCHEMA ds")
    con.query("DECLARE name STRING DEFAULT 'made'; EXECUTE IMMEDIATE CONCAT('CREATE TABLE ds.', name, ' AS SELECT 1 AS x')")
    assert rows(con, "SELECT x FROM ds.made") == [(1,)]


def test_row_count_after_dml_and_script_variables(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT * FROM UNNEST([1, 2, 3, 4]) AS v")
    assert rows(con, "DECLARE n INT64; DELETE FROM ds.t WHERE v > 1; SET n = @@row_count; SELECT n, @@row_count") == [(3, None)]
    job, children = rows(con, "SELECT 1; SELECT 2; SELECT @@script.job_id, @@script.num_child_jobs")[0]
    assert job.startswith("script_") and children >= 2


def test_transaction_in_a_failing_script_is_rolled_back(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.acct AS SELECT 100 AS balance")
    with pytest.raises(sqlml.ScriptError, match="overdrawn"):
        con.query(
            """
            DECLARE amount INT64 DEFAULT 150;
            BEGIN TRANSACTION;
            UPDATE ds.acct SET balance = balance - amount WHERE TRUE;
            IF (SELECT balance FROM ds.acct) < 0 THEN RAISE USING MESSAGE = 'overdrawn'; END IF;
            COMMIT TRANSACTION;
            """
        )
    assert rows(con, "SELECT balance FROM ds.acct") == [(100,)]


def test_break_outside_a_loop_is_an_error(con):
    with pytest.raises(sqlml.ScriptError, match="not inside a matching loop"):
        con.query("BREAK")


def test_procedure_with_in_out_inout_parameters(con):
    con.query("CREATE SCHEMA ds")
    con.query(
        """
        CREATE PROCEDURE ds.accumulate(IN amount INT64, INOUT total INT64, OUT note STRING)
        BEGIN
          SET total = total + amount;
          SET note = FORMAT('added %d', amount);
        END;
        """
    )
    script = "DECLARE total INT64 DEFAULT 10; DECLARE note STRING; CALL ds.accumulate(5, total, note); CALL ds.accumulate(2 * 3, total, note); SELECT total, note"
    assert rows(con, script) == [(21, "added 6")]


def test_procedure_sees_only_its_parameters_and_can_return_early(con):
    con.query("CREATE SCHEMA ds; CREATE TABLE ds.events (n INT64)")
    con.query(
        """
        CREATE OR REPLACE PROCEDURE ds.fill(IN upto INT64)
        BEGIN
          DECLARE i INT64 DEFAULT 0;
          LOOP
            SET i = i + 1;
            IF i > upto THEN RETURN; END IF;
            INSERT INTO ds.events VALUES (i);
          END LOOP;
        END;
        """
    )
    con.query("DECLARE i INT64 DEFAULT 100; CALL ds.fill(3); ASSERT i = 100 AS 'the procedure changed a caller variable'")
    assert rows(con, "SELECT SUM(n), COUNT(*) FROM ds.events") == [(6, 3)]


def test_procedures_persist_in_the_warehouse(tmp_path):
    with sqlml.connect(tmp_path / "wh", tmp_path / "models", idle_release=0) as first:
        first.query("CREATE SCHEMA ds; CREATE PROCEDURE ds.hello(OUT greeting STRING) BEGIN SET greeting = 'hello'; END")
        with pytest.raises(sqlml.AlreadyExistsError, match="already exists"):
            first.query("CREATE PROCEDURE ds.hello(OUT greeting STRING) BEGIN SET greeting = 'again'; END")
    with sqlml.connect(tmp_path / "wh", tmp_path / "models", idle_release=0) as second:
        assert rows(second, "DECLARE g STRING; CALL ds.hello(g); SELECT g") == [("hello",)]


def test_errors_inside_a_procedure_name_the_procedure_and_line(con):
    con.query("CREATE SCHEMA ds")
    con.query(
        """CREATE PROCEDURE ds.broken()
BEGIN
  SELECT 1;
  SELECT * FROM ds.missing_table;
END"""
    )
    with pytest.raises(sqlml.Error) as failure:
        con.query("CALL ds.broken()")
    assert failure.value.location.path == "procedure ds.broken"
    assert failure.value.location.line == 4
    assert "missing_table" in str(failure.value)
    with pytest.raises(sqlml.ScriptError, match="takes 0 argument"):
        con.query("CALL ds.broken(1)")
    with pytest.raises(sqlml.NotFoundError, match="Known procedures: ds.broken"):
        con.query("CALL ds.brokn()")


def test_procedure_parameters_of_nested_types(con):
    con.query(
        """
        CREATE SCHEMA ds;
        CREATE PROCEDURE ds.describe_order(IN item STRUCT<name STRING, qty INT64>, IN sizes ARRAY<INT64>, OUT summary STRING)
        BEGIN
          SET summary = FORMAT('%s x%d in %d sizes', item.name, item.qty, ARRAY_LENGTH(sizes));
        END;
        """
    )
    assert rows(con, "DECLARE s STRING; CALL ds.describe_order(STRUCT('hat' AS name, 2 AS qty), [1, 2, 3], s); SELECT s") == [
        ("hat x2 in 3 sizes",)
    ]


def test_a_table_created_earlier_in_the_block_shadows_a_variable(con):
    """Columns win over variables even for a table the same script has just created."""
    script = """
    DECLARE k INT64 DEFAULT 99;
    DECLARE seen INT64;
    BEGIN
      CREATE TABLE ds.fresh AS SELECT 1 AS other;
      SET seen = (SELECT k FROM ds.fresh);
      CREATE OR REPLACE TABLE ds.fresh AS SELECT 1 AS k;
      SELECT seen, k FROM ds.fresh;
    END;
    """
    con.query("CREATE SCHEMA ds")
    assert con.query(script).fetchall() == [(99, 1)]


@pytest.mark.parametrize(
    ("script", "keyword", "col"),
    [
        ("IF THEN SELECT 1; END IF;\nSELECT 2", "IF", 4),
        ("WHILE DO BREAK; END WHILE", "WHILE", 7),
        ("CASE WHEN THEN SELECT 1; END CASE", "WHEN", 11),
        ("REPEAT SELECT 1; UNTIL END REPEAT", "UNTIL", 24),
        ("FOR r IN DO SELECT 1; END FOR", "IN", 10),
        ("ASSERT AS 'x';\nSELECT 2", "ASSERT", 1),
        ("EXECUTE IMMEDIATE;", "IMMEDIATE", 9),
    ],
)
def test_a_missing_condition_is_reported_where_it_belongs(con, script, keyword, col):
    # it was reported at the last token of the script, in another statement
    with pytest.raises(sqlml.SqlSyntaxError) as caught:
        con.query(script)
    assert caught.value.message == f"Expected an expression after {keyword}"
    assert (caught.value.location.statement, caught.value.location.line, caught.value.location.col) == (1, 1, col)


def test_a_handler_that_is_only_a_string_is_a_syntax_error_not_a_crash(con):
    with pytest.raises(sqlml.SqlSyntaxError, match=r"^Syntax error: '' is an expression, not a statement"):
        con.query("BEGIN SELECT 1/0; EXCEPTION WHEN ERROR THEN ''; END")
    assert rows(con, "BEGIN SELECT 1/0; EXCEPTION WHEN ERROR THEN SELECT ''; END") == [("",)]


@pytest.mark.parametrize(
    ("script", "written"),
    [
        ("DECLARE i INT64 DEFAULT 0; REPEAT SET i = i + 1; UNTIL 1 END REPEAT", "INT64: 1"),
        ("IF 'yes' THEN SELECT 1; END IF", "STRING: 'yes'"),
        ("WHILE 2.5 DO SELECT 1; END WHILE", "FLOAT64: 2.5"),
        ("ASSERT 5 AS 'five'", "INT64: 5"),
    ],
)
def test_a_condition_that_is_not_a_bool_is_a_type_error(con, script, written):
    # BigQuery requires BOOL conditions; taking 1 as "not TRUE" made `UNTIL 1` loop forever.
    with pytest.raises(sqlml.SqlTypeError) as error:
        con.query(script)
    assert error.value.message == f"A condition must be a BOOL, not {written}"
    assert error.value.hint == "Compare the value, e.g. `x != 0` or `x IS NOT NULL`."


def test_a_null_condition_is_not_true(con):
    assert rows(con, "DECLARE x INT64; IF x > 1 THEN SELECT 'yes' AS a; ELSE SELECT 'no' AS a; END IF") == [("no",)]


def test_insert_values_read_a_variable_named_like_a_column_of_the_target(con):
    """The target's columns are not in scope in INSERT … VALUES (dbt-bigquery projects declare
    such variables in hooks): n is the variable; a SELECT from the table still reads its column."""
    con.query("CREATE SCHEMA ds")
    script = """
    DECLARE n INT64 DEFAULT 3;
    CREATE TEMP TABLE t (n INT64);
    INSERT INTO t VALUES (n), (n + 1);
    INSERT INTO t (n) VALUES (n * 10);
    SELECT n FROM t ORDER BY n;
    """
    assert con.query(script).fetchall() == [(3,), (4,), (30,)]


def test_a_temp_function_parameter_is_not_the_variable_of_the_same_name(con):
    script = """
    DECLARE y INT64 DEFAULT 100;
    CREATE TEMP FUNCTION plus_one(y INT64) AS (y + 1);
    SELECT plus_one(5) AS a, plus_one(y) AS b;
    """
    assert con.query(script).fetchall() == [(6, 101)]
