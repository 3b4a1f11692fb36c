"""moe.report: the Markdown and LaTeX renderings of the summary and component tables."""

import numpy as np
import pandas as pd

from moe.report import summary_latex, summary_markdown
from moe.scoring import PRIMARY, correct_components, summarize
from tests.test_scoring import _summary_inputs


def _components():
    """Protein-disjoint C2 and C3 rows of d: rival beats ours on C3 log-loss (corrected)."""
    rows = []
    for component, p_log_loss in (("C3", 0.001), ("C2", 0.4)):
        for model in ("ours", "rival"):
            for metric in [*PRIMARY, "accuracy", "roc_auc"]:
                row = {"dataset": "d", "split": "protein_disjoint", "model": model,
                       "component": component, "n_pairs": 50, "n_redrawn": 0,
                       "metric": metric, "value": 0.3, "lower": 0.2, "upper": 0.4}
                if model == "rival":
                    p = p_log_loss if metric == "log_loss" else 0.5
                    row |= {"diff": -0.1, "diff_lower": -0.15, "diff_upper": -0.05,
                            "p_value": p}
                rows.append(row)
    # an unscorable component is reported, not dropped
    rows.append({"dataset": "e", "split": "protein_disjoint", "model": "ours",
                 "component": "C3", "n_pairs": 4, "metric": "log_loss", "value": np.nan})
    return correct_components(pd.DataFrame(rows), "ours")


def test_markdown_leads_with_c3_then_c2_then_pooled():
    summary = summarize(*_summary_inputs(), reference="ours")
    text = summary_markdown(summary, "ours", _components())
    c3, c2 = text.index("## C3 pairs"), text.index("## C2 pairs")
    pooled = text.index("## Pooled out-of-fold predictions")
    assert c3 < c2 < pooled < text.index("## Where ours loses and wins")
    assert "| rival | 0.300 [0.200, 0.400] † |" in text  # C3 log-loss: corrected win of rival
    assert "### e (4 C3 pairs)" in text and "Not scorable" in text
    assert "| **ours** |" in text
    assert "0.710 ± 0.014 [0.660, 0.760]" in text


def test_markdown_counts_only_corrected_primary_verdicts():
    summary = summarize(*_summary_inputs(), reference="ours")
    text = summary_markdown(summary, "ours", _components())
    assert "Only the Holm-corrected tests of the primary metrics" in text
    # C3: 3 primary tests of one rival, Holm: 0.001 * 3 = 0.003 -> one loss
    assert "- C3 pairs, protein-disjoint split: ours loses to another model in 1 of 3" in text
    assert "ours loses to rival on Log-loss -0.100 (95% CI -0.150 to -0.050, Holm p = 0.003)" \
        in text
    assert "- C2 pairs, protein-disjoint split: ours loses to another model in 0 of 3" in text
    # pooled: rival's accuracy win is secondary (uncorrected), so not counted; log-loss p 0.3
    assert "- pooled predictions, all splits: ours loses to another model in 0 of 1" in text
    assert "Accuracy +0.110" not in text
    assert text.index("- C3 pairs") < text.index("- C2 pairs") < text.index("- pooled")


def test_latex_leads_with_c3_and_marks_corrected_wins_only():
    summary = summarize(*_summary_inputs(), reference="ours")
    summary["model"] = summary["model"].replace("rival", "rival_x")
    tex = summary_latex(summary, "ours", _components(), metrics_shown=("accuracy", "log_loss"))
    assert r"\toprule" in tex and r"\textbf{ours}" in tex
    assert tex.index("C3 pairs") < tex.index("C2 pairs") < tex.index("pooled")
    assert r"rival & 0.300 [0.200, 0.400]$^\dagger$ & 0.300 [0.200, 0.400] & " in tex
    # pooled accuracy: the uncorrected interval excludes zero, yet no dagger
    assert r"rival\_x & 0.820 $\pm$ 0.028 & 0.600 $\pm$ 0.141 \\" in tex
