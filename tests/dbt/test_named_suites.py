"""The rest of the dbt-tests-adapter suites issue 20 names, on the sqlml adapter.

Beyond the basic classes of ``test_basic.py``: singular tests on an ephemeral model, the
``--empty`` flag on models and inline source refs, multi-level and failing ephemeral
models, incremental models without a schema change or with an unknown strategy, the
simple_snapshot suites (updates, inserts, deletes, revives, new columns; check-column
selection), and the cross-database type macros (``dbt.type_int()`` …) with BigQuery's types.
Not here: ``BaseTestEmptySeedFlag`` — ``dbt seed --empty`` is an option of dbt-core releases
after the pinned 1.11 ("No such option '--empty'").
Every class runs dbt several times, so the module is slow.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dbt.tests.adapter.basic.test_incremental import BaseIncrementalBadStrategy, BaseIncrementalNotSchemaChange
from dbt.tests.adapter.basic.test_singular_tests_ephemeral import BaseSingularTestsEphemeral
from dbt.tests.adapter.basic.test_validate_connection import BaseValidateConnection
from dbt.tests.adapter.empty.test_empty import BaseTestEmpty, BaseTestEmptyInlineSourceRef
from dbt.tests.adapter.ephemeral.test_ephemeral import BaseEphemeralErrorHandling, BaseEphemeralMulti, BaseEphemeralNested
from dbt.tests.adapter.simple_snapshot.test_snapshot import BaseSimpleSnapshot, BaseSnapshotCheck
from dbt.tests.adapter.utils.data_types.test_type_bigint import BaseTypeBigInt
from dbt.tests.adapter.utils.data_types.test_type_boolean import BaseTypeBoolean
from dbt.tests.adapter.utils.data_types.test_type_float import BaseTypeFloat
from dbt.tests.adapter.utils.data_types.test_type_int import BaseTypeInt
from dbt.tests.adapter.utils.data_types.test_type_numeric import BaseTypeNumeric
from dbt.tests.adapter.utils.data_types.test_type_string import BaseTypeString
from dbt.tests.adapter.utils.data_types.test_type_timestamp import BaseTypeTimestamp
from dbt.tests.util import check_relations_equal, run_dbt

pytestmark = pytest.mark.slow  # each class runs dbt 2-10 times: ~10-60 s on 2 busy cores


class TestSingularTestsEphemeral(BaseSingularTestsEphemeral):
    pass


class TestValidateConnection(BaseValidateConnection):
    pass


class TestEmptyModels(BaseTestEmpty):
    pass


class TestEmptyInlineSourceRef(BaseTestEmptyInlineSourceRef):
    pass


def compiled_run_sql(name: str) -> str:
    """The SQL dbt ran for model ``name``, as dbt's ephemeral tests compare it: digits (the test
    schema's number) and whitespace removed."""
    text = Path(f"target/run/test/models/{name}.sql").read_text()
    return "".join(re.sub(r"\d+", "", text).split())


def view_sql(project, name: str, select: str) -> str:
    """sqlml's form of dbt's expected ``create view`` (dbt's is Postgres': "dbt"."schema"."x__dbt_tmp"
    in parentheses): a BigQuery ``create or replace view`` of the backticked relation, as dbt-bigquery."""
    schema = re.sub(r"\d+", "", project.test_schema)
    return "".join(f"create or replace view `sqlml`.`{schema}`.`{name}` as {select.format(schema=schema)}".split())


class TestEphemeralMulti(BaseEphemeralMulti):
    def test_ephemeral_multi(self, project):
        """dbt's test, with the compiled SQL sqlml's: every ephemeral CTE once, in dependency order."""
        run_dbt(["seed"])
        assert len(run_dbt(["run"])) == 3
        for model in ("dependent", "double_dependent", "super_dependent"):
            check_relations_equal(project.adapter, ["seed", model])
        expected = view_sql(
            project,
            "double_dependent",
            "with __dbt__cte__base as (select * from {schema}.seed), __dbt__cte__base_copy as (select * from __dbt__cte__base)"
            "-- base_copy just pulls from base. Make sure the listed-- graph of CTEs all share the same dbt_cte__base cte"
            "select * from __dbt__cte__base where gender = 'Male' union all select * from __dbt__cte__base_copy where gender = 'Female'",
        )
        assert compiled_run_sql("double_dependent") == expected


class TestEphemeralNested(BaseEphemeralNested):
    def test_ephemeral_nested(self, project):
        """dbt's test, with the compiled SQL sqlml's: the nested ephemeral models become two CTEs."""
        assert len(run_dbt(["run"])) == 2
        expected = view_sql(
            project,
            "root_view",
            "with __dbt__cte__ephemeral_level_two as (select * from `sqlml`.`{schema}`.`source_table`),"
            "__dbt__cte__ephemeral as (select * from __dbt__cte__ephemeral_level_two) select * from __dbt__cte__ephemeral",
        )
        assert compiled_run_sql("root_view") == expected


class TestEphemeralErrorHandling(BaseEphemeralErrorHandling):
    pass


class TestIncrementalNotSchemaChange(BaseIncrementalNotSchemaChange):
    pass


class TestIncrementalBadStrategy(BaseIncrementalBadStrategy):
    pass


class TestSimpleSnapshot(BaseSimpleSnapshot):
    pass


class TestSnapshotCheck(BaseSnapshotCheck):
    pass


class TestTypeBigInt(BaseTypeBigInt):
    pass


class TestTypeBoolean(BaseTypeBoolean):
    pass


class TestTypeFloat(BaseTypeFloat):
    pass


class TestTypeInt(BaseTypeInt):
    pass


class TestTypeNumeric(BaseTypeNumeric):
    pass


class TestTypeString(BaseTypeString):
    pass


class TestTypeTimestamp(BaseTypeTimestamp):
    pass
