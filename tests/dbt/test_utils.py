"""dbt-tests-adapter's cross-database macro suites on the sqlml adapter (dbt.dateadd, dbt.listagg …).

Each class runs ``dbt build`` on a seed, a model and a test, so all are marked slow.
"""

from __future__ import annotations

import pytest

from dbt.tests.adapter.utils.test_any_value import BaseAnyValue
from dbt.tests.adapter.utils.test_array_append import BaseArrayAppend
from dbt.tests.adapter.utils.test_array_concat import BaseArrayConcat
from dbt.tests.adapter.utils.test_array_construct import BaseArrayConstruct
from dbt.tests.adapter.utils.test_bool_or import BaseBoolOr
from dbt.tests.adapter.utils.test_cast import BaseCast
from dbt.tests.adapter.utils.test_cast_bool_to_text import BaseCastBoolToText
from dbt.tests.adapter.utils.test_concat import BaseConcat
from dbt.tests.adapter.utils.test_current_timestamp import BaseCurrentTimestampAware
from dbt.tests.adapter.utils.test_date import BaseDate
from dbt.tests.adapter.utils.test_date_spine import BaseDateSpine
from dbt.tests.adapter.utils.test_date_trunc import BaseDateTrunc
from dbt.tests.adapter.utils.test_dateadd import BaseDateAdd
from dbt.tests.adapter.utils.test_datediff import BaseDateDiff
from dbt.tests.adapter.utils.test_equals import BaseEquals
from dbt.tests.adapter.utils.test_escape_single_quotes import BaseEscapeSingleQuotesBackslash
from dbt.tests.adapter.utils.test_except import BaseExcept
from dbt.tests.adapter.utils.test_generate_series import BaseGenerateSeries
from dbt.tests.adapter.utils.test_get_intervals_between import BaseGetIntervalsBetween
from dbt.tests.adapter.utils.test_get_powers_of_two import BaseGetPowersOfTwo
from dbt.tests.adapter.utils.test_hash import BaseHash
from dbt.tests.adapter.utils.test_intersect import BaseIntersect
from dbt.tests.adapter.utils.test_last_day import BaseLastDay
from dbt.tests.adapter.utils.test_length import BaseLength
from dbt.tests.adapter.utils.test_listagg import BaseListagg
from dbt.tests.adapter.utils.test_null_compare import BaseMixedNullCompare
from dbt.tests.adapter.utils.test_null_compare import BaseNullCompare
from dbt.tests.adapter.utils.test_position import BasePosition
from dbt.tests.adapter.utils.test_replace import BaseReplace
from dbt.tests.adapter.utils.test_right import BaseRight
from dbt.tests.adapter.utils.test_safe_cast import BaseSafeCast
from dbt.tests.adapter.utils.test_source_freshness_custom_info import BaseCalculateFreshnessMethod
from dbt.tests.adapter.utils.test_split_part import BaseSplitPart
from dbt.tests.adapter.utils.test_string_literal import BaseStringLiteral
from dbt.tests.adapter.utils.test_timestamps import BaseCurrentTimestamps
from dbt.tests.adapter.utils.test_validate_sql import BaseValidateSqlMethod


# dbt-bigquery's fixture for get_intervals_between (tests/functional/adapter/utils of dbt-adapters).
INTERVALS_SQL = """
SELECT
  {{ get_intervals_between("'2023-09-01'", "'2023-09-12'", "day") }} as intervals,
  11 as expected
"""
INTERVALS_YML = """
version: 2
models:
  - name: test_get_intervals_between
    data_tests:
      - assert_equal:
          actual: intervals
          expected: expected
"""


@pytest.mark.slow
class TestAnyValue(BaseAnyValue):
    pass


@pytest.mark.slow
class TestArrayAppend(BaseArrayAppend):
    pass


@pytest.mark.slow
class TestArrayConcat(BaseArrayConcat):
    pass


@pytest.mark.slow
class TestArrayConstruct(BaseArrayConstruct):
    pass


@pytest.mark.slow
class TestBoolOr(BaseBoolOr):
    pass


@pytest.mark.slow
class TestCast(BaseCast):
    pass


@pytest.mark.slow
class TestCastBoolToText(BaseCastBoolToText):
    pass


@pytest.mark.slow
class TestConcat(BaseConcat):
    pass



@pytest.mark.slow
class TestCurrentTimestampAware(BaseCurrentTimestampAware):
    pass



@pytest.mark.slow
class TestDate(BaseDate):
    pass


@pytest.mark.slow
class TestDateSpine(BaseDateSpine):
    pass


@pytest.mark.slow
class TestDateTrunc(BaseDateTrunc):
    pass


@pytest.mark.slow
class TestDateAdd(BaseDateAdd):
    pass


@pytest.mark.slow
class TestDateDiff(BaseDateDiff):
    pass


@pytest.mark.slow
class TestEquals(BaseEquals):
    pass



@pytest.mark.slow
class TestEscapeSingleQuotesBackslash(BaseEscapeSingleQuotesBackslash):
    pass


@pytest.mark.slow
class TestExcept(BaseExcept):
    pass


@pytest.mark.slow
class TestGenerateSeries(BaseGenerateSeries):
    pass


@pytest.mark.slow
class TestGetIntervalsBetween(BaseGetIntervalsBetween):
    """dbt-bigquery's own fixture: BigQuery (and sqlml) read ISO dates, not '09/01/2023'."""

    @pytest.fixture(scope="class")
    def models(self):
        return {
            "test_get_intervals_between.yml": INTERVALS_YML,
            "test_get_intervals_between.sql": self.interpolate_macro_namespace(INTERVALS_SQL, "get_intervals_between"),
        }


@pytest.mark.slow
class TestGetPowersOfTwo(BaseGetPowersOfTwo):
    pass


@pytest.mark.slow
class TestHash(BaseHash):
    pass


@pytest.mark.slow
class TestIntersect(BaseIntersect):
    pass


@pytest.mark.slow
class TestLastDay(BaseLastDay):
    pass


@pytest.mark.slow
class TestLength(BaseLength):
    pass


@pytest.mark.slow
class TestListagg(BaseListagg):
    pass


@pytest.mark.slow
class TestMixedNullCompare(BaseMixedNullCompare):
    pass


@pytest.mark.slow
class TestNullCompare(BaseNullCompare):
    pass


@pytest.mark.slow
class TestPosition(BasePosition):
    pass


@pytest.mark.slow
class TestReplace(BaseReplace):
    pass


@pytest.mark.slow
class TestRight(BaseRight):
    pass


@pytest.mark.slow
class TestSafeCast(BaseSafeCast):
    pass


@pytest.mark.slow
class TestCalculateFreshnessMethod(BaseCalculateFreshnessMethod):
    pass


@pytest.mark.slow
class TestSplitPart(BaseSplitPart):
    pass


@pytest.mark.slow
class TestStringLiteral(BaseStringLiteral):
    pass


@pytest.mark.slow
class TestCurrentTimestamps(BaseCurrentTimestamps):
    """dbt-bigquery's expectations: BigQuery's CURRENT_TIMESTAMP is a TIMESTAMP."""

    @pytest.fixture(scope="class")
    def expected_schema(self):
        return {name: "TIMESTAMP" for name in ("current_timestamp", "current_timestamp_in_utc_backcompat", "current_timestamp_backcompat")}

    @pytest.fixture(scope="class")
    def expected_sql(self):
        return """select current_timestamp() as current_timestamp,
                current_timestamp as current_timestamp_in_utc_backcompat,
                current_timestamp as current_timestamp_backcompat"""


@pytest.mark.slow
class TestValidateSqlMethod(BaseValidateSqlMethod):
    pass
