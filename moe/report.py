"""Render the summary tables of :mod:`moe.scoring` as Markdown and LaTeX.

Both lead with the honest endpoint: the C3 test pairs of the protein-disjoint
split (neither protein seen in training), then its C2 pairs (one seen), from the
component table of :func:`moe.scoring.correct_components`; then the pooled
out-of-fold tables per dataset and split from :func:`moe.scoring.summarize`.
The Markdown then says in plain words where the reference (our method) loses
and where it wins, C3 first, counting only the Holm-corrected verdicts of the
primary metrics (:data:`moe.scoring.PRIMARY`); secondary metrics are shown
but are descriptive.
"""

from __future__ import annotations

import pandas as pd

from moe.metrics import METRICS
from moe.scoring import BETTER, PRIMARY, WORSE

__all__ = ["summary_markdown", "summary_latex"]

_HEADLINE = ["accuracy", "macro_f1", "roc_auc", "log_loss", "brier", "ece_width"]
#: metrics of the component tables: the primary ones, then two descriptive ones
_COMPONENT_METRICS = [*PRIMARY, "accuracy", "roc_auc"]
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
#: the leading component sections: (component, title)
_LEADING = (
    ("C3", "C3 pairs of the protein-disjoint split (neither protein seen in training)"),
    ("C2", "C2 pairs of the protein-disjoint split (one protein seen in training)"),
)
_SPLIT = "protein_disjoint"


def _marker(row, latex=False) -> str:
    """Marks a corrected primary verdict: the model beats (†) or loses to (‡) the reference."""
    if row["verdict"] == WORSE:
        return r"$^\dagger$" if latex else " †"
    if row["verdict"] == BETTER:
        return r"$^\ddagger$" if latex else " ‡"
    return ""


def _interval(value, lower, upper, digits=3) -> str:
    if pd.isna(value):
        return "n/a"
    return f"{value:.{digits}f} [{lower:.{digits}f}, {upper:.{digits}f}]"


def _cell(row, digits=3) -> str:
    sd = "" if pd.isna(row["sd"]) else f" ± {row['sd']:.{digits}f}"
    return (
        f"{row['mean']:.{digits}f}{sd} [{row['lower']:.{digits}f}, {row['upper']:.{digits}f}]"
        + _marker(row)
    )


def _component_cell(row) -> str:
    return _interval(row["value"], row["lower"], row["upper"]) + _marker(row)


def _wide(table: pd.DataFrame, groups, metrics_shown, cell) -> dict:
    """``{group key: DataFrame(model x metric of cell strings)}``."""
    out = {}
    for key, part in table.groupby(groups, sort=False):
        part = part[part["metric"].isin(metrics_shown)]
        models = list(dict.fromkeys(part["model"]))
        frame = pd.DataFrame(index=models, columns=list(metrics_shown), dtype=object)
        for _, row in part.iterrows():
            frame.loc[row["model"], row["metric"]] = cell(row)
        out[key] = frame.fillna("")
    return out


def _markdown_table(frame: pd.DataFrame, reference: str) -> list[str]:
    header = ["model"] + [_LABELS[m] for m in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for model, row in frame.iterrows():
        name = f"**{model}**" if model == reference else model
        lines.append("| " + " | ".join([name] + list(row)) + " |")
    return lines + [""]


def _leading(components, component: str) -> pd.DataFrame:
    if components is None or components.empty:
        return pd.DataFrame(columns=["dataset", "split", "model", "component", "metric"])
    return components[(components["split"] == _SPLIT) & (components["component"] == component)]


def _difference_text(row, level) -> str:
    return (
        f"{row['diff']:+.3f} ({level:.0%} CI {row['diff_lower']:+.3f} to "
        f"{row['diff_upper']:+.3f}, Holm p = {row['p_holm']:.3g})"
    )


def _statements(table, where: str, reference: str, level: float) -> list[str]:
    """Plain-words losses and wins of the reference in one table (corrected primary only)."""
    tested = table[table["primary"].astype(bool) & (table["model"] != reference)]
    tested = tested[tested["p_holm"].notna()]
    lines = []
    for verdict, verb in ((WORSE, "loses to"), (BETTER, "beats")):
        rows = tested[tested["verdict"] == verdict]
        lines.append(
            f"- {where}: {reference} {verb} another model in {len(rows)} of {len(tested)} "
            "corrected comparisons" + (":" if len(rows) else ".")
        )
        for (dataset, split, model), part in rows.groupby(["dataset", "split", "model"],
                                                          sort=False):
            items = ", ".join(
                f"{_LABELS[row['metric']]} {_difference_text(row, level)}"
                for _, row in part.iterrows()
            )
            lines.append(f"  - {dataset}, {split}: {reference} {verb} {model} on {items}.")
    return lines


def summary_markdown(
    summary: pd.DataFrame, reference: str, components: pd.DataFrame | None = None,
    level: float = 0.95, metrics_shown=tuple(METRICS),
) -> str:
    """Markdown: C3 and C2 tables, pooled tables, then where the reference loses and wins.

    Component cells read ``value [interval]``; pooled cells
    ``mean ± sd over folds [interval of the pooled predictions]``; intervals
    come from the protein bootstrap. † / ‡: the model beats / loses to the
    reference by a Holm-corrected test of a primary metric.
    """
    primary = ", ".join(_LABELS[m] for m in PRIMARY)
    lines = [
        "# PPI benchmark summary",
        "",
        f"Intervals: estimate ± z·se ({level:.0%}), se from a protein bootstrap (the "
        "proteins are resampled and a pair enters a resample once per draw of each of "
        "its proteins, so pairs that share a protein stay dependent). Component cells: "
        "value [interval]; pooled cells: mean ± sd over folds [interval of the pooled "
        "out-of-fold predictions]. Higher is better for accuracy, macro-F1 and ROC-AUC; "
        "lower is better for the rest.",
        "",
        f"Primary metrics: {primary}. Their paired bootstrap tests against "
        f"{reference} are Holm-corrected within each dataset and split (and component) "
        "across models and primary metrics; † marks a model that beats "
        f"{reference}, ‡ one that loses to it, at a corrected p below {1 - level:.2g}. "
        "The other metrics are descriptive: their differences are not corrected for "
        "multiplicity and are not counted as wins or losses.",
        "",
    ]
    for component, title in _LEADING:
        part = _leading(components, component)
        lines += [f"## {title}", ""]
        if part.empty:
            lines += ["No such pairs in this run.", ""]
            continue
        for (dataset,), frame in _wide(part, ["dataset"], _COMPONENT_METRICS,
                                       _component_cell).items():
            rows = part[part["dataset"] == dataset]
            n_pairs = int(rows["n_pairs"].iloc[0])
            lines += [f"### {dataset} ({n_pairs} {component} pairs)", ""]
            if rows["value"].isna().all():
                lines += [f"Not scorable: the {component} pairs hold a single class.", ""]
                continue
            lines += _markdown_table(frame, reference)
    lines += ["## Pooled out-of-fold predictions", ""]
    for (dataset, split), frame in _wide(summary, ["dataset", "split"], metrics_shown,
                                         _cell).items():
        lines += [f"### {dataset}, {split} split", ""]
        lines += _markdown_table(frame, reference)
    lines += [
        f"## Where {reference} loses and wins",
        "",
        f"Only the Holm-corrected tests of the primary metrics ({primary}) are counted; "
        f"difference = other model - {reference}; C3 first.",
        "",
    ]
    for component, _ in _LEADING:
        part = _leading(components, component)
        if not part.empty:
            lines += _statements(part, f"{component} pairs, protein-disjoint split",
                                 reference, level)
    lines += _statements(summary, "pooled predictions, all splits", reference, level)
    return "\n".join(lines).rstrip() + "\n"


def _latex_escape(text: str) -> str:
    return str(text).replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")


def _latex_table(frame: pd.DataFrame, reference: str, caption: str) -> str:
    columns = "l" + "r" * len(frame.columns)
    header = " & ".join(["Model"] + [_LABELS[m] for m in frame.columns]) + r" \\"
    body = []
    for model, row in frame.iterrows():
        name = _latex_escape(model)
        if model == reference:
            name = rf"\textbf{{{name}}}"
        body.append(" & ".join([name] + list(row)) + r" \\")
    return "\n".join(
        [
            r"\begin{table}[t]",
            r"\centering\small",
            rf"\caption{{{caption}}}",
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


def summary_latex(
    summary: pd.DataFrame, reference: str, components: pd.DataFrame | None = None,
    level: float = 0.95, metrics_shown=tuple(_HEADLINE),
) -> str:
    """Booktabs tables: protein-disjoint C3, then C2 (value [interval]), then pooled
    per dataset and split (mean ± sd over folds).

    The reference is set in bold; a dagger (double dagger) marks a model that
    beats (loses to) the reference on a primary metric by a Holm-corrected
    paired protein-bootstrap test.
    """
    ref = _latex_escape(reference)
    pct = f"{level:.0%}".replace("%", r"\%")
    marks = (
        rf"$^\dagger$ / $^\ddagger$: better / worse than {ref} on a primary metric "
        rf"(paired protein bootstrap, Holm-corrected, {pct})."
    )

    def component_cell(row):
        if pd.isna(row["value"]):
            return "n/a"
        return (
            f"{row['value']:.3f} [{row['lower']:.3f}, {row['upper']:.3f}]"
            + _marker(row, latex=True)
        )

    def pooled_cell(row):
        text = f"{row['mean']:.3f}"
        if not pd.isna(row["sd"]):
            text += rf" $\pm$ {row['sd']:.3f}"
        return text + _marker(row, latex=True)

    blocks = []
    for component, _ in _LEADING:
        part = _leading(components, component)
        if part.empty:
            continue
        for (dataset,), frame in _wide(part, ["dataset"], _COMPONENT_METRICS,
                                       component_cell).items():
            n_pairs = int(part.loc[part["dataset"] == dataset, "n_pairs"].iloc[0])
            caption = (
                rf"{_latex_escape(dataset)}, protein-disjoint split, {component} pairs "
                rf"(n = {n_pairs}): value [{pct} protein-bootstrap interval]. {marks}"
            )
            blocks.append(_latex_table(frame, reference, caption))
    for (dataset, split), frame in _wide(summary, ["dataset", "split"], metrics_shown,
                                         pooled_cell).items():
        caption = (
            rf"{_latex_escape(dataset)}, {_latex_escape(split)} split, pooled: "
            rf"mean $\pm$ sd over folds. {marks}"
        )
        blocks.append(_latex_table(frame, reference, caption))
    return "\n\n".join(blocks) + "\n"
