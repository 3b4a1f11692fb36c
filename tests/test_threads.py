"""One thread cap: moe.threads.limit_threads, the models' thread counts and the workflow jobs."""

import json
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from threadpoolctl import threadpool_info, threadpool_limits

import moe.folds
import moe.model
from moe.baselines import MODEL_NAMES, MODELS, build_model
from moe.ppi.splits import Fold
from moe.threads import limit_threads

SCRIPTS = Path(__file__).resolve().parents[1] / "workflow" / "scripts"


def _pools():
    return {(pool["user_api"], pool["filepath"]): pool["num_threads"] for pool in threadpool_info()}


def _two_threads():
    """Pools of two threads to start from, whatever OMP_NUM_THREADS the tests run with, so
    that a cap of one shows."""
    return threadpool_limits(limits=2)


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)


def test_limit_threads_caps_blas_and_openmp_and_restores_them():
    with _two_threads():
        before = _pools()
        assert {"blas", "openmp"} <= {api for api, _ in before}  # both kinds are loaded
        assert set(before.values()) == {2}
        with limit_threads(1):
            assert set(_pools().values()) == {1}
        assert _pools() == before
        with limit_threads(None):
            assert _pools() == before


def test_the_k_means_start_of_the_moe_runs_under_its_thread_count(monkeypatch):
    seen = []

    class Recording(moe.model.KMeans):
        def fit(self, *args, **kwargs):
            seen.append({pool["user_api"]: pool["num_threads"] for pool in threadpool_info()})
            return super().fit(*args, **kwargs)

    monkeypatch.setattr(moe.model, "KMeans", Recording)
    with _two_threads(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a 5-step fit does not converge, by design
        moe.model.SGMLMoE(n_experts=2, n_init=2, max_iter=5, n_threads=1).fit(*_data())
    assert seen == [{"blas": 1, "openmp": 1}] * 2


def test_every_model_gets_the_thread_count():
    # Estimators that run threads of their own take n_threads; n_jobs=None (one job, in
    # scikit-learn's and joblib's convention) is left to those that would run folds or
    # classes side by side: each of those fits already uses the threads.
    for name in MODEL_NAMES:
        if MODELS[name].calibration is not None:
            continue  # no estimator: calibrates its base's predictions (moe.calibration)
        params = build_model(name, n_threads=3).get_params(deep=True)
        counts = {
            key: value
            for key, value in params.items()
            if key.rsplit("__", 1)[-1] in ("n_jobs", "n_threads", "nthread")
        }
        assert all(value in (3, None) for value in counts.values()), (name, counts)
        if name.startswith(("rf", "xgb", "moe")):
            assert 3 in counts.values(), (name, counts)


def test_xgboost_trains_with_the_thread_count():
    model = build_model("xgb", {"n_estimators": 2}, n_threads=1).fit(*_data())
    config = json.loads(model[-1].get_booster().save_config())
    assert config["learner"]["generic_param"]["nthread"] == "1"


def test_a_fold_is_fitted_and_predicted_under_the_thread_count(monkeypatch):
    seen = []

    class Recording(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            seen.append(set(_pools().values()))
            self.classes_ = np.unique(y)
            return self

        def predict_proba(self, X):
            seen.append(set(_pools().values()))
            return np.full((len(X), 2), 0.5)

    monkeypatch.setattr(moe.folds, "build_model", lambda *args, **kwargs: Recording())
    X, y = _data(40)
    pairs = pd.DataFrame({"protein_a": "a", "protein_b": "b", "label": y})
    fold = Fold(train=np.arange(30), test=np.arange(30, 40))
    with _two_threads():
        moe.folds.fit_fold("logreg", {}, pd.DataFrame(X), pairs, fold, 0, 2, n_threads=1)
    assert seen == [{1}, {1}]


def test_a_workflow_job_runs_under_its_threads(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    monkeypatch.delitem(sys.modules, "job", raising=False)
    from job import run

    seen = []
    snakemake = SimpleNamespace(
        log=[str(tmp_path / "job.log")], rule="test", wildcards={}, threads=1
    )
    with _two_threads():
        run(lambda _: seen.append(set(_pools().values())), snakemake)
    assert seen == [{1}]


def test_reading_scoring_and_job_start_up_do_not_import_scikit_learn():
    # what an evaluation job imports; scikit-learn would add about 1.4 s of CPU to each
    code = (
        "import sys; sys.path.insert(0, sys.argv[1])\n"
        "import job, moe, moe.io, moe.predictions, moe.scoring, moe.report, moe.threads\n"
        "loaded = sorted(m for m in ('sklearn', 'scipy.optimize', 'xgboost') if m in sys.modules)\n"
        "assert not loaded, loaded\n"
        "assert moe.SGMLMoE is sys.modules['moe.model'].SGMLMoE and 'sklearn' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(SCRIPTS)], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr


def test_the_package_exports_load_on_first_use():
    import moe

    assert set(moe.__all__) <= set(dir(moe))
    assert moe.DendrogramSelector is __import__("moe.selectors").selectors.DendrogramSelector
    with pytest.raises(AttributeError, match="no attribute 'fit'"):
        moe.fit  # noqa: B018
    import moe.ppi
    from moe.ppi.probe import ProteinFrequencyProbe

    assert "ProteinFrequencyProbe" in dir(moe.ppi)
    assert moe.ppi.ProteinFrequencyProbe is ProteinFrequencyProbe
    with pytest.raises(AttributeError, match="no attribute 'probe_fit'"):
        moe.ppi.probe_fit  # noqa: B018
