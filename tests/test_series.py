import numpy as np
import pandas as pd
import pytest

from dlbook.series import lagged_features


def test_lagged_features_matches_pandas_shift():
    series = pd.Series(np.arange(10.0) ** 2)
    X = lagged_features(series, 3)
    expected = np.stack([series.shift(j).to_numpy() for j in (1, 2, 3)], axis=1)
    assert X.shape == (10, 3) and X.dtype == np.float64
    np.testing.assert_array_equal(np.isnan(X), np.isnan(expected))
    np.testing.assert_array_equal(X[3:], expected[3:])


def test_lagged_features_known_rows():
    X = lagged_features([10, 20, 30, 40], 2)
    np.testing.assert_array_equal(X[2], [20.0, 10.0])  # day 2 sees day 1, then day 0
    np.testing.assert_array_equal(X[3], [30.0, 20.0])
    assert np.isnan(X[0]).all() and np.isnan(X[1, 1]) and X[1, 0] == 10.0


def test_lagged_features_longer_than_the_series_is_all_nan_beyond():
    X = lagged_features(np.array([1.0, 2.0]), 5)
    assert X.shape == (2, 5)
    assert X[1, 0] == 1.0 and np.isnan(X[:, 1:]).all() and np.isnan(X[0]).all()


@pytest.mark.parametrize("num_days", [0, -1, 2.5, True])
def test_lagged_features_rejects_bad_num_days(num_days):
    with pytest.raises(ValueError, match="num_days"):
        lagged_features(np.arange(5.0), num_days)


def test_lagged_features_rejects_2d_input():
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        lagged_features(np.zeros((3, 2)), 1)


def test_lagged_features_on_the_bike_series(need_data):
    need_data("bike")
    from dlbook import data

    riders = data.load_bike_sharing().set_index("dteday")["casual"].asfreq("D").interpolate()
    X = lagged_features(riders, 7)
    assert X.shape == (len(riders), 7)
    assert X[7, 6] == riders.iloc[0] and X[100, 0] == riders.iloc[99]
