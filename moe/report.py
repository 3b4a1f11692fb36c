"""Render the summary table of :func:`moe.scoring.summarize` as Markdown and LaTeX.

The Markdown holds one table per dataset and split, then says in plain words
where the reference (our method) loses and where it wins; the LaTeX holds one
booktabs table per dataset and split with the headline metrics.
"""

from __future__ import annotations

import pandas as pd

from moe.metrics import METRICS

__all__ = ["summary_markdown", "summary_latex"]

_HEADLINE = ["accuracy", "macro_f1", "roc_auc", "log_loss", "brier", "ece_width"]
_LABELS = {
    "accuracy": "Accuracy",
    "macro_f1": "Macro-F1",
    "roc_auc": "ROC-AUC",
    "log_loss": "Log-loss",
    "brier": "Brier",
    "ece_width": "ECE (width)",
    "ece_mass": "ECE (mass)",
    "mce": "MCE",
    "classwise_ece": "Class-wise ECE",
}


def _cell(row, digits=3) -> str:
    sd = "" if pd.isna(row["sd"]) else f" ± {row['sd']:.{digits}f}"
    return f"{row['mean']:.{digits}f}{sd} [{row['lower']:.{digits}f}, {row['upper']:.{digits}f}]"


def _wide(summary: pd.DataFrame, metrics_shown, cell) -> dict:
    """``{(dataset, split): DataFrame(model x metric of cell strings)}``."""
    out = {}
    for (dataset, split), part in summary.groupby(["dataset", "split"], sort=False):
        part = part[part["metric"].isin(metrics_shown)]
        models = list(dict.fromkeys(part["model"]))
        frame = pd.DataFrame(index=models, columns=list(metrics_shown), dtype=object)
        for _, row in part.iterrows():
            frame.loc[row["model"], row["metric"]] = cell(row)
        out[(dataset, split)] = frame.fillna("")
    return out


def _difference_text(row) -> str:
    return (
        f"{row['diff']:+.3f} (95% CI {row['diff_lower']:+.3f} to {row['diff_upper']:+.3f})"
    )


def summary_markdown(
    summary: pd.DataFrame, reference: str, metrics_shown=tuple(METRICS)
) -> str:
    """Markdown tables per dataset and split, then plain statements of wins and losses.

    Cells read ``mean ± sd over folds [pooled 95% bootstrap interval]``.
    """
    lines = [
        "# PPI benchmark summary",
        "",
        "Cells: mean ± sd over folds [95% bootstrap interval of the pooled "
        "out-of-fold predictions]. Higher is better for accuracy, macro-F1 and "
        "ROC-AUC; lower is better for the rest.",
        "",
    ]
    for (dataset, split), frame in _wide(summary, metrics_shown, _cell).items():
        lines += [f"## {dataset}, {split} split", ""]
        header = ["model"] + [_LABELS[m] for m in frame.columns]
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        for model, row in frame.iterrows():
            name = f"**{model}**" if model == reference else model
            lines.append("| " + " | ".join([name] + list(row)) + " |")
        lines.append("")
    n_pairs = int((summary["verdict"] != "").sum())
    for title, verdict, verb in (
        (f"Where {reference} loses", "reference worse", "loses to"),
        (f"Where {reference} wins", "reference better", "beats"),
    ):
        rows = summary[summary["verdict"] == verdict]
        lines += [f"## {title}", ""]
        lines.append(
            f"{reference} {verb} another model in {len(rows)} of {n_pairs} paired "
            "comparisons (the 95% bootstrap interval of the difference excludes zero; "
            f"difference = other model - {reference})" + (":" if len(rows) else ".")
        )
        lines.append("")
        for (dataset, split, model), part in rows.groupby(["dataset", "split", "model"], sort=False):
            items = ", ".join(
                f"{_LABELS[row['metric']]} {_difference_text(row)}" for _, row in part.iterrows()
            )
            lines.append(f"- {dataset}, {split}: {reference} {verb} {model} on {items}.")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _latex_escape(text: str) -> str:
    return str(text).replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")


def summary_latex(summary: pd.DataFrame, reference: str, metrics_shown=tuple(_HEADLINE)) -> str:
    """A booktabs table per dataset and split: mean ± sd over folds.

    The reference is set in bold; a dagger marks a model whose paired interval
    shows it beats the reference on that metric.
    """

    def cell(row):
        text = f"{row['mean']:.3f}"
        if not pd.isna(row["sd"]):
            text += rf" $\pm$ {row['sd']:.3f}"
        if row["verdict"] == "reference worse":
            text += r"$^\dagger$"
        return text

    blocks = []
    for (dataset, split), frame in _wide(summary, metrics_shown, cell).items():
        columns = "l" + "r" * len(frame.columns)
        header = " & ".join(["Model"] + [_LABELS[m] for m in frame.columns]) + r" \\"
        body = []
        for model, row in frame.iterrows():
            name = _latex_escape(model)
            if model == reference:
                name = rf"\textbf{{{name}}}"
            body.append(" & ".join([name] + list(row)) + r" \\")
        blocks.append(
            "\n".join(
                [
                    r"\begin{table}[t]",
                    r"\centering\small",
                    rf"\caption{{{_latex_escape(dataset)}, {_latex_escape(split)} split: "
                    rf"mean $\pm$ sd over folds. $^\dagger$: better than "
                    rf"{_latex_escape(reference)} (paired bootstrap, 95\%).}}",
                    rf"\begin{{tabular}}{{{columns}}}",
                    r"\toprule",
                    header,
                    r"\midrule",
                    *body,
                    r"\bottomrule",
                    r"\end{tabular}",
                    r"\end{table}",
                ]
            )
        )
    return "\n\n".join(blocks) + "\n"
