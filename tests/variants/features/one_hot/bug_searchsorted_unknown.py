# BUG: vectorised lookup with np.searchsorted, never checking the value is really there: an unseen value lands on a neighbouring category.
import numpy as np


class OneHotEncoder:
    def __init__(self, drop=None):
        self.drop = drop

    def fit(self, X):
        X = np.asarray(X)
        self.categories_ = [np.unique(X[:, j]) for j in range(X.shape[1])]
        return self

    def transform(self, X):
        X = np.asarray(X)
        first = 1 if self.drop == "first" else 0
        blocks = []
        for j, cats in enumerate(self.categories_):
            pos = np.clip(np.searchsorted(cats, X[:, j]), 0, len(cats) - 1)
            block = np.zeros((len(X), len(cats)))
            block[np.arange(len(X)), pos] = 1.0
            blocks.append(block[:, first:])
        return np.concatenate(blocks, axis=1)

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def get_feature_names(self, input_features=None):
        if input_features is None:
            input_features = [f"x{j}" for j in range(len(self.categories_))]
        first = 1 if self.drop == "first" else 0
        return [f"{input_features[j]}_{c}" for j, cats in enumerate(self.categories_)
                for c in cats.tolist()[first:]]
