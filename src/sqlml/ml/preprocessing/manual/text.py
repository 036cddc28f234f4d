"""Vector and text preprocessing: ML.NORMALIZER, ML.POLYNOMIAL_EXPAND, ML.FEATURE_CROSS,
ML.NGRAMS, ML.BAG_OF_WORDS and ML.TF_IDF as DuckDB expressions.

https://cloud.google.com/bigquery/docs/manual-preprocessing — e.g.
``ML.POLYNOMIAL_EXPAND(STRUCT(2 AS f1, 3 AS f2))`` is ``{f1: 2, f1_f1: 4, f1_f2: 6, f2: 3, f2_f2: 9}``,
``ML.FEATURE_CROSS(STRUCT('a' AS f1, 'b' AS f2, 'c' AS f3))`` is ``{f1_f2: 'a_b', f1_f3: 'a_c', f2_f3: 'b_c'}``
and ``ML.NGRAMS(['a', 'b', 'c'], [2, 3], '#')`` is ``['a#b', 'a#b#c', 'b#c']``. TF-IDF uses
tf = count / document length and idf = ln(1 + N / (1 + document frequency)), the unknown term's
idf being the mean of the dictionary's.
"""

from __future__ import annotations

import itertools
import math

from sqlglot import exp

from sqlml.errors import InvalidOptionError
from sqlml.ml.preprocessing.manual.base import VOCABULARY, Function, as_number, optional_argument, vocabulary_entries, vocabulary_of
from sqlml.ml.preprocessing.manual.constant_arguments import constant
from sqlml.sql.templates import build, literal

_DOCUMENT_FREQUENCY = "list_aggregate(flatten(list(list_distinct(__p_tokens))), 'histogram')"
_CODES = "list_transform(__p_tokens, lambda __lt: coalesce(list_position(__p_vocab, __lt), 0))"
# DuckDB cannot evaluate a window aggregate inside a lambda body, so a vocabulary computed
# OVER () (standalone use) is passed in through list_zip instead of being referenced directly.
_CODES_WINDOWED = (
    "list_transform(list_zip(__p_tokens, list_resize([__p_vocab], len(__p_tokens), __p_vocab)), "
    "lambda __lz: coalesce(list_position(__lz[2], __lz[1]), 0))"
)
_COUNTS = "map_entries(list_aggregate(__p_codes, 'histogram'))"


def codes(tokens: exp.Expression, vocabulary: exp.Expression) -> exp.Expression:
    """Each token's vocabulary index (0 for unknown and NULL)."""
    template = _CODES_WINDOWED if vocabulary.find(exp.Window) is not None else _CODES
    return build(template, tokens=tokens, vocab=vocabulary)


def _struct_fields(node: exp.Expression, name: str) -> list[tuple[str, exp.Expression]]:
    if not isinstance(node, exp.Struct):
        raise InvalidOptionError(f"ML.{name} takes a STRUCT of named features, e.g. STRUCT(a AS f1, b AS f2).")
    fields = []
    for field in node.expressions:
        if isinstance(field, exp.PropertyEQ):
            fields.append((field.this.name, field.expression))
        elif isinstance(field, exp.Alias):
            fields.append((field.alias, field.this))
        elif isinstance(field, exp.Column):
            fields.append((field.name, field))
        else:
            raise InvalidOptionError(f"Every field of ML.{name}'s STRUCT needs a name: write <expr> AS <name>.")
    if not 1 <= len(fields) <= 10:
        raise InvalidOptionError(f"ML.{name} takes 1 to 10 features.")
    return fields


def _struct(pairs: list[tuple[str, exp.Expression]]) -> exp.Expression:
    return exp.Struct(expressions=[exp.PropertyEQ(this=exp.to_identifier(n), expression=e) for n, e in pairs])


def _polynomial(args, stats):
    fields = _struct_fields(args[0], "POLYNOMIAL_EXPAND")
    degree = optional_argument(args, 1, 2, "degree of ML.POLYNOMIAL_EXPAND")
    if not isinstance(degree, int) or not 1 <= degree <= 4:
        raise InvalidOptionError("ML.POLYNOMIAL_EXPAND's degree must be an integer in [1, 4].")
    terms = []
    for size in range(1, degree + 1):
        for combo in itertools.combinations_with_replacement(range(len(fields)), size):
            value = as_number(fields[combo[0]][1])
            for index in combo[1:]:
                value = exp.Mul(this=value, expression=as_number(fields[index][1]))
            terms.append((combo, "_".join(fields[i][0] for i in combo), value))
    return _struct([(name, value) for _, name, value in sorted(terms)])


def _feature_cross(args, stats):
    fields = _struct_fields(args[0], "FEATURE_CROSS")
    degree = optional_argument(args, 1, 2, "degree of ML.FEATURE_CROSS")
    if not isinstance(degree, int) or not 2 <= degree <= 4:
        raise InvalidOptionError("ML.FEATURE_CROSS's degree must be an integer in [2, 4].")
    crosses = []
    for size in range(2, degree + 1):
        for combo in itertools.combinations(range(len(fields)), size):
            value = build("CAST(__p_x AS VARCHAR)", x=fields[combo[0]][1])
            for index in combo[1:]:
                value = build("__p_a || '_' || CAST(__p_b AS VARCHAR)", a=value, b=fields[index][1])
            crosses.append(("_".join(fields[i][0] for i in combo), value))
    return _struct(crosses)


def _ngrams(args, stats):
    span = constant(args[1], "range of ML.NGRAMS")
    low, high = (span, span) if isinstance(span, int) else (tuple(span) + (None,))[:2]
    if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high):
        raise InvalidOptionError("ML.NGRAMS's range must be an integer or [min, max] with 1 ≤ min ≤ max.")
    separator = optional_argument(args, 2, " ", "separator of ML.NGRAMS")
    return build(
        "flatten(list_transform(range(1, len(__p_a) + 1), lambda __li: list_transform(list_filter(range(__p_lo, __p_hi + 1), "
        "lambda __ln: __li + __ln - 1 <= len(__p_a)), lambda __ln: array_to_string(list_slice(__p_a, __li, __li + __ln - 1), __p_sep))))",
        a=args[0], lo=literal(low), hi=literal(high), sep=literal(separator),
    )  # fmt: skip


def _normalizer(args, stats):
    p = optional_argument(args, 1, 2.0, "p of ML.NORMALIZER")
    if not isinstance(p, (int, float)) or not (p == 0 or p >= 1):
        raise InvalidOptionError("ML.NORMALIZER's p must be 0, at least 1, or +inf.")
    a = args[0]
    if p == 0:
        norm = build("CAST(len(list_filter(__p_a, lambda __le: __le <> 0)) AS DOUBLE)", a=a)
    elif math.isinf(p):
        norm = build("list_max(list_transform(__p_a, lambda __le: abs(CAST(__le AS DOUBLE))))", a=a)
    else:
        norm = build("pow(list_sum(list_transform(__p_a, lambda __le: pow(abs(CAST(__le AS DOUBLE)), __p_p))), 1.0 / __p_p)", a=a, p=literal(float(p)))
    return build("list_transform(__p_a, lambda __le: CASE WHEN __p_n = 0 THEN CAST(__le AS DOUBLE) ELSE __le / __p_n END)", a=a, n=norm)


def _bag_of_words(args, stats):
    counts = build(_COUNTS, codes=codes(args[0], stats[0]))
    return build(
        "list_transform(__p_counts, lambda __le: {'index': CAST(__le.key AS BIGINT), 'value': CAST(__le.value AS DOUBLE)})",
        counts=counts,
    )


def _tf_idf_statistics(args):
    # the vocabulary and each of its terms' document frequency, read from the same entries (looking
    # each term up in the frequency MAP copied the MAP per term: 30 s for 5,000 terms)
    entries = vocabulary_entries(build(_DOCUMENT_FREQUENCY, tokens=args[0]), args, 1, "TF_IDF")
    return [
        build(VOCABULARY, entries=entries),
        build("list_transform(__p_e, lambda __le: __le.n)", e=entries),
        build("CAST(count(__p_t) AS DOUBLE)", t=args[0]),
    ]


def _tf_idf(args, stats):
    # https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-tf-idf — a
    # term's idf is ln(1 + N / (1 + its document frequency)); the unknown term's (index 0: terms
    # outside the dictionary, and NULL) is the mean idf of the dictionary's terms. The page's
    # example gives exactly that: documents [I like pie pie pie NULL], [yum yum pie NULL],
    # [I yum pie NULL], [you like pie NULL] with top_k 3 keep I, like (df 2) and pie (df 4), and
    # every document's index-0 value is its unknown share times (2 ln(1 + 4/3) + ln(1 + 4/5)) / 3:
    # 1/6, 3/4, 2/4 and 2/4 of 0.76079 (0.12680, 0.57060, 0.38040, 0.38040). With an empty
    # dictionary the unknown term weighs 0.
    counts = build(_COUNTS, codes=codes(args[0], stats[0]))
    df = build("CAST(__p_df AS BIGINT[])", df=stats[1])  # typed even when the dictionary is empty
    # document frequency of each index, 0 for the unknown index 0: list_extract(df, 0) is NULL
    frequencies = build("list_transform(__p_counts, lambda __le: coalesce(list_extract(__p_df, __le.key), 0))", counts=counts, df=df)
    if df.find(exp.Window) is not None:
        frequencies = build(
            "list_transform(list_zip(__p_counts, list_resize([__p_df], len(__p_counts), __p_df)), "
            "lambda __lz: coalesce(list_extract(__lz[2], __lz[1].key), 0))",
            counts=counts, df=df,
        )  # fmt: skip
    # (the window aggregates df and N reach a lambda body only through list_zip, as above)
    idfs = build(
        "list_transform(list_zip(__p_df, list_resize([__p_n], len(__p_df), __p_n)), lambda __lz: ln(1 + __lz[2] / (1 + __lz[1])))",
        df=df, n=stats[2],
    )
    unknown = build("coalesce(list_avg(__p_idfs), 0.0)", idfs=idfs)
    return build(
        "list_transform(list_zip(__p_counts, __p_freq, list_resize([__p_n], len(__p_counts), __p_n), "
        "list_resize([__p_unknown], len(__p_counts), __p_unknown)), lambda __lz: "
        "{'index': CAST(__lz[1].key AS BIGINT), 'value': CAST(__lz[1].value AS DOUBLE) / __p_len "
        "* CASE WHEN __lz[1].key = 0 THEN __lz[4] ELSE ln(1 + __lz[3] / (1 + __lz[2])) END})",
        counts=counts, freq=frequencies, n=stats[2], unknown=unknown, len=build("len(__p_t)", t=args[0]),
    )  # fmt: skip


def functions() -> list[Function]:
    """The vector and text functions."""
    return [
        Function("NORMALIZER", (1, 2), output=_normalizer),
        Function("POLYNOMIAL_EXPAND", (1, 2), output=_polynomial),
        Function("FEATURE_CROSS", (1, 2), output=_feature_cross),
        Function("NGRAMS", (2, 3), output=_ngrams),
        Function(
            "BAG_OF_WORDS", (1, 3),
            statistics=lambda a: [vocabulary_of(build(_DOCUMENT_FREQUENCY, tokens=a[0]), a, 1, "BAG_OF_WORDS")],
            output=_bag_of_words,
        ),
        Function("TF_IDF", (1, 3), statistics=_tf_idf_statistics, output=_tf_idf),
    ]
