"""The report's charts, drawn with Matplotlib and returned as inline SVG markup.

Each function takes the Arrow table an ML function returned and gives one ``<svg>`` element with a
``<title>`` naming the chart (how a reader — or a test in a browser — finds it).
"""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa


def _figure(width: float = 5.2, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg")  # no display: render straight to SVG
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(width, height), dpi=100)
    return plt, figure, axes


def _svg(plt, figure, title: str) -> str:
    buffer = io.StringIO()
    figure.tight_layout()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    text = buffer.getvalue()
    svg = text[text.index("<svg") :]
    head, rest = svg.split(">", 1)
    return f'{head} role="img" aria-label="{title}"><title>{title}</title>{rest}'


def confusion_matrix(table: pa.Table) -> str:
    """Counts of expected (rows) against predicted (columns) labels, as a heat map."""
    plt, figure, axes = _figure(4.6, 4.0)
    expected = [str(v) for v in table.column(0).to_pylist()]
    predicted = table.column_names[1:]
    counts = np.array([[table.column(c)[i].as_py() or 0 for c in predicted] for i in range(table.num_rows)], float)
    axes.imshow(counts, cmap="Blues")
    for (i, j), value in np.ndenumerate(counts):
        axes.text(j, i, f"{int(value)}", ha="center", va="center", color="white" if value > counts.max() / 2 else "black")
    axes.set_xticks(range(len(predicted)), predicted)
    axes.set_yticks(range(len(expected)), expected)
    axes.set_xlabel("predicted label")
    axes.set_ylabel("expected label")
    return _svg(plt, figure, "Confusion matrix")


def roc_curve(table: pa.Table, auc: float | None) -> str:
    """True positive rate against false positive rate over the thresholds."""
    plt, figure, axes = _figure()
    fpr = [0.0, *table.column("false_positive_rate").to_pylist(), 1.0]
    tpr = [0.0, *table.column("recall").to_pylist(), 1.0]
    axes.plot(fpr, tpr, color="#1f6feb", label=f"model (AUC {auc:.3f})" if auc is not None else "model")
    axes.plot([0, 1], [0, 1], color="#999", linestyle="--", label="chance")
    axes.set_xlabel("false positive rate")
    axes.set_ylabel("true positive rate (recall)")
    axes.legend(loc="lower right")
    return _svg(plt, figure, "ROC curve")


def precision_recall_curve(table: pa.Table) -> str:
    """Precision against recall over the thresholds."""
    plt, figure, axes = _figure()
    tp = np.array(table.column("true_positives").to_pylist(), float)
    fp = np.array(table.column("false_positives").to_pylist(), float)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), 1.0)
    axes.plot(table.column("recall").to_pylist(), precision, color="#8250df")
    axes.set_xlabel("recall")
    axes.set_ylabel("precision")
    axes.set_ylim(0, 1.02)
    return _svg(plt, figure, "Precision-recall curve")


def horizontal_bars(labels: list[str], values: list[float], title: str, xlabel: str, reference: float | None = None) -> str:
    """One bar per label, largest on top; an optional vertical reference line."""
    plt, figure, axes = _figure(5.6, max(2.4, 0.35 * len(labels) + 1.2))
    order = np.argsort(values)
    axes.barh([labels[i] for i in order], [values[i] for i in order], color="#2da44e")
    if reference is not None:
        axes.axvline(reference, color="#cf222e", linestyle="--")
    axes.set_xlabel(xlabel)
    return _svg(plt, figure, title)


def training_curve(table: pa.Table) -> str:
    """Loss (and evaluation loss, where recorded) by iteration, from ML.TRAINING_INFO."""
    plt, figure, axes = _figure()
    iterations = table.column("iteration").to_pylist()
    axes.plot(iterations, table.column("loss").to_pylist(), color="#1f6feb", marker=".", label="loss")
    if "eval_loss" in table.column_names:
        axes.plot(iterations, table.column("eval_loss").to_pylist(), color="#cf222e", marker=".", label="eval_loss")
    axes.set_xlabel("iteration")
    axes.set_ylabel("loss")
    axes.legend(loc="upper right")
    return _svg(plt, figure, "Training curve")


def parallel_coordinates(names: list[str], rows: list[dict], objective: str, labels: list[str]) -> str:
    """One polyline per run across one axis per hyperparameter and a last axis for ``objective``,
    coloured by the objective (what MLflow's and Optuna's dashboards draw). Each axis is scaled to
    its own range and marked with its extremes; a text value (a choice) sits at its rank."""
    axes_names = [*names, objective]
    plt, figure, axes = _figure(max(5.2, 1.4 * len(axes_names)), 3.8)
    scaled, ticks = [], []
    for name in axes_names:
        values = [row.get(name) for row in rows]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values if v is not None)
        if not numeric:
            order = sorted({str(v) for v in values})
            values = [None if v is None else order.index(str(v)) for v in values]
            low, high, text = 0, max(len(order) - 1, 1), (order[0], order[-1])
        else:
            present = [v for v in values if v is not None] or [0.0]
            low, high = min(present), max(present)
            text = (f"{low:.4g}", f"{high:.4g}")
        span = (high - low) or 1.0
        scaled.append([np.nan if v is None else (v - low) / span for v in values])
        ticks.append(text)
    points = np.array(scaled, float).T  # runs x axes
    colour = points[:, -1]
    colours = plt.get_cmap("viridis")(np.nan_to_num(colour, nan=0.0))
    for index, line in enumerate(points):
        axes.plot(range(len(axes_names)), line, color=colours[index], linewidth=1.6, marker="o", label=labels[index])
    for position, (low, high) in enumerate(ticks):
        axes.axvline(position, color="#888", linewidth=0.8)
        axes.annotate(low, (position, 0), xytext=(3, -12), textcoords="offset points", fontsize=7)
        axes.annotate(high, (position, 1), xytext=(3, 4), textcoords="offset points", fontsize=7)
    axes.set_xticks(range(len(axes_names)), axes_names, rotation=20)
    axes.set_yticks([])
    axes.set_ylim(-0.12, 1.12)
    if len(labels) <= 12:
        axes.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _svg(plt, figure, "Parallel coordinates")
