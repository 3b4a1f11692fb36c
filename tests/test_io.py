"""moe.io: outputs get the mode open() gives (0666 less the umask), whatever the writer."""

import os

import numpy as np
import pandas as pd
import pytest

from moe import io


@pytest.fixture
def umask():
    """Set the process umask for one test."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writers_honour_the_umask(tmp_path, umask, mask, mode):
    umask(mask)
    frame = pd.DataFrame({"a": [1.0, 2.0]})
    io.atomic_write_text(tmp_path / "t.txt", "x")
    io.atomic_write_json(tmp_path / "sub" / "t.json", {"a": 1})
    io.atomic_to_csv(frame, tmp_path / "t.csv")
    io.save_matrix(frame, tmp_path / "t.npz")
    for name in ("t.txt", "sub/t.json", "t.csv", "t.npz"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name
    assert (tmp_path / "sub").stat().st_mode & 0o777 == 0o777 & ~mask


def test_concat_csv_keeps_order_and_options(tmp_path):
    io.atomic_to_csv(pd.DataFrame({"id": ["NA", "b"]}), tmp_path / "1.csv")
    io.atomic_to_csv(pd.DataFrame({"id": ["c"]}), tmp_path / "2.csv")
    both = io.concat_csv([tmp_path / "1.csv", tmp_path / "2.csv"], keep_default_na=False)
    assert both["id"].tolist() == ["NA", "b", "c"]
    assert both.index.tolist() == [0, 1, 2]


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    with pytest.raises(RuntimeError):
        with io.atomic_path(target) as tmp:
            tmp.write_text("partial")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    io.atomic_write_text(target, "done")
    assert target.read_text() == "done" and list(tmp_path.iterdir()) == [target]


def test_matrix_round_trip_keeps_index_and_columns(tmp_path):
    frame = pd.DataFrame(np.arange(6.0).reshape(3, 2), index=["p1", "p2", "p3"], columns=["x", "y"])
    io.save_matrix(frame, tmp_path / "m.npz")
    pd.testing.assert_frame_equal(io.load_matrix(tmp_path / "m.npz"), frame, check_index_type=False)
