"""``sqlml report MODEL --output report.html``: a self-contained HTML page about a model."""

from __future__ import annotations

import click

from sqlml.cli.main import cli, data_options, error_handler, open_connection


@cli.command()
@click.argument("model")
@click.option("-o", "--output", default="report.html", show_default=True, type=click.Path(dir_okay=False), help="The HTML file to write.")
@click.option("--data", help="A table with the label to check fairness and skew on (dataset.table).")
@click.option("--sensitive-feature", help="The column whose groups fairness compares (needs --data).")
@click.option("--privileged-group", help="The group fairness compares the others with (default: the largest).")
@data_options
@error_handler
def report(model, output, data, sensitive_feature, privileged_group, warehouse, models, dialect, lock_timeout):
    """Write one HTML page with MODEL's summary, metrics, confusion matrix, ROC and precision-recall
    curves, feature importance, fairness and skew tables with charts; it opens offline.

    \b
    Example:
      sqlml report credit.credit_decision --data credit.stg_applications --sensitive-feature marital -o credit.html
    """
    from sqlml.report import write_report

    with open_connection(warehouse, models, dialect, lock_timeout) as connection:
        target = write_report(connection, model, output, data, sensitive_feature, privileged_group)
    click.echo(f"Wrote {target}", err=True)
