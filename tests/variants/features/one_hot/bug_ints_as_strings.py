# BUG: converts every value to str before np.unique, so int categories sort as text ('10' < '9').
import numpy as np


class OneHotEncoder:
    def __init__(self, drop=None):
        self.drop = drop

    def fit(self, X):
        X = np.asarray(X).astype(str)
        self.categories_ = [np.unique(X[:, j]) for j in range(X.shape[1])]
        return self

    def transform(self, X):
        X = np.asarray(X).astype(str)
        first = 1 if self.drop == "first" else 0
        blocks = []
        for j, cats in enumerate(self.categories_):
            hits = X[:, j][:, None] == cats[None, :]
            blocks.append(hits[:, first:].astype(np.float64))
        return np.concatenate(blocks, axis=1)

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def get_feature_names(self, input_features=None):
        if input_features is None:
            input_features = [f"x{j}" for j in range(len(self.categories_))]
        first = 1 if self.drop == "first" else 0
        return [f"{input_features[j]}_{c}" for j, cats in enumerate(self.categories_)
                for c in cats.tolist()[first:]]
