"""FARM_FINGERPRINT gives BigQuery's values: FarmHash Fingerprint64 of STRING or BYTES as a signed INT64."""

from __future__ import annotations

import pyarrow as pa
import pytest

import sqlml
from sqlml.warehouse.fingerprint import fingerprints

# https://cloud.google.com/bigquery/docs/reference/standard-sql/hash_functions#farm_fingerprint
DOC_EXAMPLE = """
WITH example AS (
  SELECT 1 AS x, "foo" AS y, true AS z UNION ALL
  SELECT 2 AS x, "apple" AS y, false AS z UNION ALL
  SELECT 3 AS x, "" AS y, true AS z
)
SELECT *, FARM_FINGERPRINT(CONCAT(CAST(x AS STRING), y, CAST(z AS STRING))) AS row_fingerprint
FROM example ORDER BY x
"""


def test_farm_fingerprint_matches_the_bigquery_documentation(con):
    rows = con.query(DOC_EXAMPLE).fetchall()
    assert [row[-1] for row in rows] == [-1541654101129638711, 2794438866806483259, -4880158226897771312]
    assert con.query(DOC_EXAMPLE).arrow().schema.field("row_fingerprint").type == pa.int64()


def test_farm_fingerprint_of_bytes_is_that_of_their_utf8_text(con):
    # 'alphabet' → -2427165924636348523 in BigQuery and in Guava's farmHashFingerprint64
    value = con.query("SELECT FARM_FINGERPRINT('alphabet') AS s, FARM_FINGERPRINT(b'alphabet') AS b, FARM_FINGERPRINT(CAST('alphabet' AS BYTES)) AS c").fetchall()
    assert value == [(-2427165924636348523, -2427165924636348523, -2427165924636348523)]


def test_farm_fingerprint_keeps_nulls_and_covers_many_vectors(con):
    rows = con.query(
        "SELECT i, FARM_FINGERPRINT(IF(MOD(i, 3) = 0, NULL, CONCAT('k', CAST(i AS STRING)))) AS f "
        "FROM UNNEST(GENERATE_ARRAY(1, 5000)) AS i ORDER BY i"
    ).fetchall()
    expected = fingerprints(pa.array([None if i % 3 == 0 else f"k{i}" for i in range(1, 5001)])).to_pylist()
    assert [f for _, f in rows] == expected
    assert rows[2][1] is None and rows[0][1] is not None
    assert con.query("SELECT FARM_FINGERPRINT(NULL) AS f").fetchall() == [(None,)]


def test_mod_abs_farm_fingerprint_split_picks_bigquerys_rows(con):
    # the tutorials' split: the doc's three fingerprints give 1, 9 and 2
    buckets = con.query(f"SELECT MOD(ABS(row_fingerprint), 10) AS b FROM ({DOC_EXAMPLE})").fetchall()
    assert buckets == [(1,), (9,), (2,)]


@pytest.mark.parametrize("argument", ["1", "1.5", "DATE '2020-01-01'", "[1, 2]"])
def test_farm_fingerprint_takes_only_string_or_bytes(con, argument):
    with pytest.raises(sqlml.Error, match=r"No matching signature for function FARM_FINGERPRINT .* Supported signatures: FARM_FINGERPRINT\(STRING\); FARM_FINGERPRINT\(BYTES\)"):
        con.query(f"SELECT FARM_FINGERPRINT({argument}) AS f").fetchall()
