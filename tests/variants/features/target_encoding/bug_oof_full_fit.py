# BUG: fit_transform is fit(x, y).transform(x): every training row's encoding includes its own y (target leakage).
import numpy as np


class TargetEncoder:
    def __init__(self, smoothing=1.0):
        self.smoothing = smoothing

    def fit(self, x, y):
        y = np.asarray(y, dtype=np.float64)
        self.global_mean_ = float(y.mean())
        sums, counts = {}, {}
        for c, target in zip(np.asarray(x).tolist(), y.tolist()):
            sums[c] = sums.get(c, 0.0) + target
            counts[c] = counts.get(c, 0) + 1
        m = self.smoothing
        self.encodings_ = {c: (sums[c] + m * self.global_mean_) / (counts[c] + m) for c in sums}
        return self

    def transform(self, x):
        return np.array([self.encodings_.get(c, self.global_mean_) for c in np.asarray(x).tolist()],
                        dtype=np.float64)

    def fit_transform(self, x, y, folds):
        return self.fit(x, y).transform(x)
