"""scikit-learn's estimator checks for SGMLMoE and the two selectors."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from moe import CriterionSelector, DendrogramSelector, SGMLMoE

# Each entry names a check an estimator is known to fail and why; the check then runs as xfail
# (strict: a check that starts passing fails the suite, so this list cannot go stale).
EXPECTED_FAILED = {
    SGMLMoE: {
        "check_sample_weight_equivalence_on_dense_data": (
            "the likelihood is non-convex and the k-means start sees weighted and repeated rows "
            "differently, so the two fits stop at different points; from the same start, weights "
            "and repetitions give the same fit (tests/test_model.py::test_integer_sample_weights_"
            "equal_repeated_rows)"
        ),
    },
    DendrogramSelector: {},
    CriterionSelector: {},
}
FAST = dict(max_iter=30, n_init=1, random_state=0)


@parametrize_with_checks(
    [
        SGMLMoE(n_experts=2, max_iter=50, n_init=1, random_state=0),
        DendrogramSelector(SGMLMoE(n_experts=3, **FAST), variant="literal"),
        CriterionSelector(SGMLMoE(**FAST), k_max=2),
    ],
    expected_failed_checks=lambda est: EXPECTED_FAILED[type(est)],
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
