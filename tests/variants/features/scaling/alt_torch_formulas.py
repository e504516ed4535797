# CORRECT, written differently: torch in float64 for the statistics (var with correction=0, constancy from
# max == min), MinMaxScaler written as a + (x - min) / range * (b - a); results returned as numpy float64.
import numpy as np
import torch


def _t(X):
    return torch.as_tensor(np.array(X, dtype=np.float64, copy=True))


class StandardScaler:
    def fit(self, X):
        x = _t(X)
        mean = x.mean(dim=0)
        var = torch.var(x, dim=0, correction=0)
        const = x.amax(dim=0) == x.amin(dim=0)
        self.mean_ = mean.numpy()
        self.var_ = var.numpy()
        self.scale_ = torch.where(const, torch.ones_like(var), var.sqrt()).numpy()
        return self

    def transform(self, X):
        return ((_t(X) - torch.from_numpy(self.mean_)) / torch.from_numpy(self.scale_)).numpy()

    def fit_transform(self, X):
        self.fit(X)
        return self.transform(X)

    def inverse_transform(self, Z):
        return (_t(Z) * torch.from_numpy(self.scale_) + torch.from_numpy(self.mean_)).numpy()


class MinMaxScaler:
    def __init__(self, feature_range=(0.0, 1.0)):
        self.feature_range = feature_range

    def fit(self, X):
        x = _t(X)
        a, b = map(float, self.feature_range)
        lo, hi = x.amin(dim=0), x.amax(dim=0)
        rng = torch.where(hi > lo, hi - lo, torch.ones_like(hi))
        self.data_min_, self.data_max_ = lo.numpy(), hi.numpy()
        self._range = rng.numpy()
        self.scale_ = ((b - a) / rng).numpy()
        self.min_ = (a - lo * (b - a) / rng).numpy()
        return self

    def transform(self, X):
        a, b = map(float, self.feature_range)
        return a + (np.array(X, dtype=np.float64) - self.data_min_) / self._range * (b - a)

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def inverse_transform(self, Z):
        a, b = map(float, self.feature_range)
        return self.data_min_ + (np.array(Z, dtype=np.float64) - a) / (b - a) * self._range
