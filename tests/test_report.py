"""moe.report: the Markdown and LaTeX renderings of the summary table."""

from moe.report import summary_latex, summary_markdown
from moe.scoring import summarize
from tests.test_scoring import _summary_inputs


def test_markdown_says_plainly_where_the_reference_loses():
    summary = summarize(*_summary_inputs(), reference="ours")
    text = summary_markdown(summary, "ours")
    assert "| **ours** |" in text
    assert "0.710 ± 0.014 [0.660, 0.760]" in text
    assert "ours loses to another model in 1 of 2 paired comparisons" in text
    assert "- d, s: ours loses to rival on Accuracy +0.110 (95% CI +0.050 to +0.170)." in text
    assert "ours beats another model in 0 of 2 paired comparisons" in text


def test_latex_table_marks_wins_over_the_reference():
    summary = summarize(*_summary_inputs(), reference="ours")
    summary["model"] = summary["model"].replace("rival", "rival_x")
    tex = summary_latex(summary, "ours", metrics_shown=("accuracy", "log_loss"))
    assert r"\toprule" in tex and r"\textbf{ours}" in tex
    assert r"rival\_x & 0.820 $\pm$ 0.028$^\dagger$ & 0.600 $\pm$ 0.141 \\" in tex
