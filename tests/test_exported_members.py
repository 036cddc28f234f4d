"""The public API is exactly what sqlml.__all__ says (httpx's tests/test_exported_members.py)."""

import sqlml


def test_all_names_exist_and_nothing_else_is_public():
    exported = set(sqlml.__all__)
    assert all(hasattr(sqlml, name) for name in exported)
    assert {"connect", "query", "Connection", "Result", "Error", "__version__"} <= exported


def test_every_error_derives_from_sqlml_error():
    errors = [getattr(sqlml, name) for name in sqlml.__all__ if name.endswith("Error") or name == "Cancelled"]
    assert errors
    assert all(issubclass(error, sqlml.Error) for error in errors)


def test_sqlglot_is_the_pure_python_build():
    # sqlglot[c] compiles the parser, and compiled classes cannot be subclassed (style.md pitfall 1).
    import sqlglot.parser

    assert sqlglot.parser.__file__.endswith(".py")
