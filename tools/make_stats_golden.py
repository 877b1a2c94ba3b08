#!/usr/bin/env python3
"""Reference values for the reasonscope stats layer (tests/golden/stats/stats_golden.json).

Every number comes from scipy / scikit-learn / pingouin (or, for our own seeded bootstrap and the
threshold rule that no library defines, from a direct numpy implementation of the documented
algorithm). Re-runnable: the data are drawn from a fixed numpy seed, so the output is identical
on every run with the same library versions.

    /work/refvenv/bin/python tools/make_stats_golden.py   # writes tests/golden/stats/stats_golden.json

Non-finite numbers are written as the strings "nan", "inf", "-inf" (JSON has no such literals).
A case with "error": true expects the C++ function to throw rs::Error (the reference raises).
"""
import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
import sklearn
from scipy import stats
from scipy.spatial.distance import cdist
from sklearn.decomposition import PCA
from sklearn.metrics import (adjusted_rand_score, normalized_mutual_info_score, roc_auc_score,
                             silhouette_score)
from sklearn.model_selection import StratifiedKFold

try:
    import pingouin
except ImportError:  # pip install pingouin (PyPI)
    sys.exit("pingouin is required: /work/refvenv/bin/pip install pingouin")

warnings.simplefilter("ignore")
rng = np.random.default_rng(20261125)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden", "stats",
                   "stats_golden.json")


def enc(v):
    """JSON-safe float: non-finite values as strings."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def floats(a):
    return [float(v) for v in np.asarray(a, dtype=float)]


def normal(*shape):
    """Standard normal data rounded to 4 decimals (keeps the golden file small; the references
    are computed from the rounded values)."""
    return np.round(rng.normal(size=shape), 4)


def sample(n, kind):
    """Samples of several shapes: continuous, heavy ties, constant, large offsets."""
    if kind == "normal":
        return normal(n)
    if kind == "ties":
        return rng.integers(0, 4, size=n).astype(float)
    if kind == "constant":
        return np.full(n, 2.5)
    if kind == "offset":
        return 1e6 + normal(n)
    raise ValueError(kind)


# ---------------------------------------------------------------- AUROC
def make_auroc():
    cases = []
    specs = [(n, kind) for n in (2, 3, 5, 10, 31, 200) for kind in ("normal", "ties")]
    specs += [(8, "constant"), (40, "constant"), (25, "offset"), (4, "ties")]
    for n, kind in specs:
        scores = sample(n, kind)
        labels = np.zeros(n, dtype=int)
        labels[rng.permutation(n)[: max(1, n // 3)]] = 1
        if kind == "normal" and n >= 10:
            scores = scores + 0.8 * labels  # a real signal
        cases.append({"scores": floats(scores), "labels": labels.tolist(),
                      "expected": roc_auc_score(labels, scores)})
    # Perfect separation, perfect inversion.
    cases.append({"scores": [1, 2, 3, 4], "labels": [0, 0, 1, 1], "expected": 1.0})
    cases.append({"scores": [1, 2, 3, 4], "labels": [1, 1, 0, 0], "expected": 0.0})
    for labels in ([1, 1, 1], [0, 0, 0, 0], [1]):  # one class: sklearn >= 1.6 returns nan
        cases.append({"scores": floats(range(len(labels))), "labels": labels,
                      "expected": enc(roc_auc_score(labels, list(range(len(labels)))))})
    cases.append({"scores": [0.5, 0.1], "labels": [0, 2], "error": True})  # not a binary label
    cases.append({"scores": [0.5], "labels": [0, 1], "error": True})  # lengths differ
    return cases


# ---------------------------------------------------------------- Mann-Whitney U
def make_mwu():
    cases = []
    pairs = [
        (sample(1, "normal"), sample(1, "normal")),
        (sample(3, "normal"), sample(4, "normal")),
        (sample(5, "normal") + 1, sample(7, "normal")),
        (sample(8, "normal"), sample(8, "normal") + 2),  # extreme exact tail
        (sample(3, "normal"), sample(60, "normal")),
        (sample(8, "normal") + 0.5, sample(150, "normal")),
        (sample(12, "normal"), sample(15, "normal")),
        (sample(9, "ties"), sample(11, "ties")),
        (sample(30, "ties"), sample(25, "ties")),
        (sample(6, "ties"), sample(5, "ties")),
        (sample(4, "constant"), sample(3, "constant")),  # all tied
        (sample(40, "normal"), sample(35, "normal") + 0.3),
    ]
    for pair_index, (x, y) in enumerate(pairs):
        for alt in ("two-sided", "greater", "less"):
            methods = ["auto", "asymptotic"]
            if len(x) * len(y) <= 2000 and not np.any(np.isin(x, y)):
                methods.append("exact")
            for method in methods:
                for cont in ((True, False) if method != "exact" else (True,)):
                    r = stats.mannwhitneyu(x, y, alternative=alt, method=method,
                                           use_continuity=cont)
                    cases.append({"pair": pair_index, "alternative": alt,
                                  "method": method, "continuity": cont,
                                  "u1": enc(r.statistic), "p": enc(r.pvalue)})
    pairs += [(np.array([]), np.array([1.0])), (np.array([1.0, 2.0]), np.array([]))]
    for pair_index in (len(pairs) - 2, len(pairs) - 1):
        cases.append({"pair": pair_index, "alternative": "two-sided",
                      "method": "auto", "continuity": True, "error": True})
    return cases, [{"x": floats(x), "y": floats(y)} for x, y in pairs]


# ---------------------------------------------------------------- Welch t, Cohen's d
def make_welch():
    cases = []
    pairs = [(sample(2, "normal"), sample(2, "normal")),
             (sample(3, "normal"), sample(9, "normal") * 3),
             (sample(20, "normal") + 0.5, sample(25, "normal")),
             (sample(6, "ties"), sample(6, "ties")),
             (sample(10, "offset"), sample(12, "offset")),
             (sample(50, "normal") + 3, sample(40, "normal")),  # tiny p
             (sample(3, "constant"), sample(4, "constant") + 1),  # zero variance: t = -inf
             (sample(3, "constant"), sample(2, "constant")),  # zero variance, equal means: nan
             (sample(5, "constant"), sample(7, "normal"))]
    for x, y in pairs:
        for alt in ("two-sided", "greater", "less"):
            r = stats.ttest_ind(x, y, equal_var=False, alternative=alt)
            cases.append({"x": floats(x), "y": floats(y), "alternative": alt,
                          "t": enc(r.statistic), "df": enc(r.df), "p": enc(r.pvalue)})
    cases.append({"x": [1.0], "y": [1.0, 2.0], "alternative": "two-sided", "error": True})
    return cases


def make_cohen():
    cases = []
    pairs = [(sample(n1, k1), sample(n2, k2)) for n1, n2, k1, k2 in
             [(2, 2, "normal", "normal"), (3, 5, "normal", "normal"), (10, 10, "normal", "normal"),
              (30, 20, "normal", "normal"), (7, 9, "ties", "ties"), (15, 15, "offset", "offset"),
              (1, 4, "normal", "normal"), (4, 1, "normal", "normal"), (100, 80, "normal", "normal"),
              (5, 5, "constant", "normal"), (12, 3, "ties", "normal"), (2, 6, "normal", "ties"),
              (40, 4, "offset", "offset")]]
    for i, (x, y) in enumerate(pairs):
        y = y + 0.1 * i
        for a, b in ((x, y), (y, x)):
            if min(len(a), len(b)) < 2:  # a one-value sample has no SD: reasonscope raises
                cases.append({"x": floats(a), "y": floats(b), "error": True})  # (pingouin: nan,
                continue                                      # or a one-sample d for len(y) = 1)
            d = pingouin.compute_effsize(a, b, paired=False, eftype="cohen")
            cases.append({"x": floats(a), "y": floats(b), "expected": enc(d)})
    cases.append({"x": [1.0, 1.0], "y": [2.0, 2.0],  # zero pooled SD
                  "expected": enc(pingouin.compute_effsize([1.0, 1.0], [2.0, 2.0], eftype="cohen"))})
    cases.append({"x": [1.0], "y": [2.0], "error": True})
    cases.append({"x": [], "y": [2.0, 3.0], "error": True})
    return cases


# ---------------------------------------------------------------- bootstrap (our SplitMix64)
MASK = (1 << 64) - 1


class SplitMix64:
    """Python twin of src/stats/rng.h."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        limit = (1 << 64) - ((1 << 64) % n)  # accept z < limit
        z = self.next()
        while z >= limit:
            z = self.next()
        return z % n


STATISTICS = {"mean": np.mean, "median": np.median, "std1": lambda v: np.std(v, ddof=1)}


def bootstrap_reference(n, statistic, n_resamples, confidence, seed, strata):
    """Percentile bootstrap exactly as documented in src/stats/bootstrap.h."""
    gen = SplitMix64(seed)
    groups = {}
    for r in range(n):
        groups.setdefault(strata[r] if strata else 0, []).append(r)
    members = [groups[strata[r] if strata else 0] for r in range(n)]
    values = []
    for _ in range(n_resamples):
        rows = [members[r][gen.below(len(members[r]))] for r in range(n)]
        values.append(statistic(rows))
    alpha = (1 - confidence) / 2
    return (statistic(list(range(n))), np.percentile(values, alpha * 100),
            np.percentile(values, (1 - alpha) * 100))


def make_bootstrap():
    cases = []
    configs = [(n, stat, B, c, seed) for (n, stat, B, c, seed) in
               [(1, "mean", 50, 0.95, 0), (2, "mean", 100, 0.9, 1), (5, "median", 200, 0.95, 2),
                (10, "mean", 500, 0.95, 3), (10, "std1", 300, 0.8, 4), (30, "mean", 1000, 0.95, 5),
                (30, "median", 999, 0.99, 6), (7, "mean", 1, 0.5, 7), (20, "std1", 400, 0.9, 8),
                (50, "mean", 300, 0.95, 2**63 + 5), (3, "median", 100, 0.95, 10),
                (15, "mean", 250, 0.6, 11)]]
    for n, stat, B, c, seed in configs:
        data = normal(n) if stat != "median" else rng.integers(0, 5, size=n).astype(float)
        fn = STATISTICS[stat]
        est, lo, hi = bootstrap_reference(n, lambda rows: fn(data[rows]), B, c, seed, None)
        cases.append({"data": floats(data), "statistic": stat, "n_resamples": B, "confidence": c,
                      "seed": str(seed), "strata": [], "estimate": est, "low": lo, "high": hi})
    # Stratified: AUROC of scores vs labels with classes kept at their sizes.
    for n, B, seed in [(12, 200, 21), (20, 300, 22), (9, 100, 23), (40, 200, 24), (6, 150, 25),
                       (16, 120, 26), (25, 80, 27), (10, 60, 28)]:
        labels = np.array([i % 3 == 0 for i in range(n)], dtype=int)
        scores = normal(n) + labels
        est, lo, hi = bootstrap_reference(
            n, lambda rows: roc_auc_score(labels[rows], scores[rows]), B, 0.9, seed,
            labels.tolist())
        cases.append({"data": floats(scores), "labels": labels.tolist(), "statistic": "auroc",
                      "n_resamples": B, "confidence": 0.9, "seed": str(seed),
                      "strata": labels.tolist(), "estimate": est, "low": lo, "high": hi})
    return cases


def make_quantile():
    cases = []
    for n in (1, 2, 3, 5, 10, 101):
        for q in (0.0, 0.025, 0.5, 0.9, 0.975, 1.0):
            v = rng.integers(0, 6, size=n).astype(float) if n % 2 else normal(n)
            cases.append({"values": floats(v), "q": q, "expected": float(np.percentile(v, q * 100))})
    return cases


# ---------------------------------------------------------------- correlations
def correlation_inputs():
    out = []
    for n in (2, 3, 4, 8, 20, 100):
        x = normal(n)
        out.append((x, np.round(0.6 * x + normal(n), 4)))
    out.append((sample(15, "ties"), sample(15, "ties")))
    # Nearly monotone (one adjacent swap): a perfectly monotone pair has rho = 1 exactly, where
    # scipy's corrcoef rounding gives 0.9999999999999999 and a meaningless p of ~1e-64.
    y = np.arange(10.0) ** 3
    y[[4, 5]] = y[[5, 4]]
    out.append((np.arange(10.0), y))
    out.append((sample(6, "constant"), normal(6)))  # constant: nan
    out.append((normal(12), -np.arange(12.0) + 0.1 * normal(12)))
    return out


def make_pearson_spearman():
    pear, spear = [], []
    for x, y in correlation_inputs():
        for alt in ("two-sided", "greater", "less"):
            r = stats.pearsonr(x, y, alternative=alt)
            pear.append({"x": floats(x), "y": floats(y), "alternative": alt,
                         "r": enc(r.statistic), "p": enc(r.pvalue)})
            if len(x) >= 3:
                s = stats.spearmanr(x, y, alternative=alt)
                spear.append({"x": floats(x), "y": floats(y), "alternative": alt,
                              "r": enc(s.statistic), "p": enc(s.pvalue)})
    for bad in (([1.0], [2.0]), ([1.0, 2.0, 3.0], [1.0, 2.0])):
        pear.append({"x": bad[0], "y": bad[1], "alternative": "two-sided", "error": True})
        spear.append({"x": bad[0], "y": bad[1], "alternative": "two-sided", "error": True})
    return pear, spear


def make_partial():
    import pandas as pd
    cases = []
    for n, k, method in [(6, 1, "pearson"), (10, 1, "pearson"), (30, 1, "pearson"),
                         (30, 2, "pearson"), (50, 3, "pearson"), (8, 2, "pearson"),
                         (100, 1, "pearson"), (20, 1, "spearman"), (25, 2, "spearman"),
                         (12, 1, "spearman"), (40, 3, "spearman"), (5, 2, "pearson")]:
        z = normal(n, k)
        x = z.sum(1) + normal(n)
        y = np.round(0.5 * z[:, 0] + 0.3 * x + normal(n), 4)
        x = np.round(x, 4)
        if method == "spearman":
            z = np.round(z * 2)  # ties in the covariates
        df = pd.DataFrame({"x": x, "y": y, **{f"z{j}": z[:, j] for j in range(k)}})
        for alt in ("two-sided", "greater"):
            r = pingouin.partial_corr(data=df, x="x", y="y", covar=[f"z{j}" for j in range(k)],
                                      method=method, alternative=alt)
            cases.append({"x": floats(x), "y": floats(y), "covariates": [floats(c) for c in z.T],
                          "method": method, "alternative": alt,
                          "r": float(r["r"].iloc[0]), "p": float(r["p_val"].iloc[0]
                                                                 if "p_val" in r else r["p-val"].iloc[0])})
    cases.append({"x": [1.0, 2.0, 3.0], "y": [1.0, 3.0, 2.0], "covariates": [[0.0, 1.0, 0.0]],
                  "method": "pearson", "alternative": "two-sided", "error": True})  # dof = 0
    return cases


# ---------------------------------------------------------------- threshold, folds
def best_threshold_reference(scores, labels):
    """Brute force over the documented candidates and tie-breaking of src/stats/threshold.h."""
    distinct = sorted(set(scores))
    candidates = [-math.inf] + [(a + b) / 2 for a, b in zip(distinct, distinct[1:])]
    best = None
    for direction in ("greater", "less"):  # Greater wins ties
        for t in candidates:  # ascending: smaller threshold wins ties
            pred = [(s > t) if direction == "greater" else (s < t) for s in scores]
            correct = sum(int(p) == l for p, l in zip(pred, labels))
            if best is None or correct > best[0]:
                best = (correct, direction, t)
    return best


def make_threshold():
    cases = []
    for n, kind in [(1, "normal"), (2, "normal"), (3, "ties"), (5, "normal"), (10, "ties"),
                    (20, "normal"), (20, "ties"), (50, "normal"), (7, "constant"), (30, "ties"),
                    (100, "normal"), (4, "constant"), (15, "offset"), (60, "ties")]:
        scores = sample(n, kind)
        labels = rng.integers(0, 2, size=n)
        if n >= 20:
            scores = scores - 0.7 * labels  # label 1 has lower scores: direction Less
        correct, direction, t = best_threshold_reference(list(scores), list(labels))
        cases.append({"scores": floats(scores), "labels": labels.tolist(), "correct": correct,
                      "accuracy": correct / n, "direction": direction, "threshold": enc(t)})
    cases.append({"scores": [0.0, 1.0], "labels": [1, 1], "correct": 2, "accuracy": 1.0,
                  "direction": "greater", "threshold": "-inf"})  # one class is allowed
    cases.append({"scores": [0.0, 1.0], "labels": [0, 0], "correct": 2, "accuracy": 1.0,
                  "direction": "less", "threshold": "-inf"})
    for n in (8, 25, 40, 9):
        scores = normal(n)
        labels = (scores > 0.2).astype(int)  # separable
        correct, direction, t = best_threshold_reference(list(scores), list(labels))
        cases.append({"scores": floats(scores), "labels": labels.tolist(), "correct": correct,
                      "accuracy": correct / n, "direction": direction, "threshold": enc(t)})
    return cases


def make_folds():
    cases = []
    for n, k, n_classes in [(10, 2, 2), (10, 5, 2), (11, 3, 2), (20, 5, 2), (23, 4, 3), (7, 7, 1),
                            (30, 5, 4), (6, 3, 2), (100, 10, 2), (17, 5, 3), (9, 3, 3), (12, 4, 2),
                            (50, 5, 5), (8, 4, 2), (13, 2, 2), (40, 3, 2), (5, 5, 1), (21, 7, 3),
                            (16, 4, 4), (19, 5, 2)]:
        labels = rng.integers(0, n_classes, size=n) * 7 - 3  # arbitrary label values
        counts = np.unique(labels, return_counts=True)[1]
        if np.all(counts < k):
            labels[:k] = labels[0]
        fold = np.empty(n, dtype=int)
        for f, (_, test) in enumerate(StratifiedKFold(n_splits=k).split(np.zeros(n), labels)):
            fold[test] = f
        cases.append({"labels": labels.tolist(), "k": k, "fold_of_row": fold.tolist()})
    cases.append({"labels": [0, 0, 1, 1], "k": 3, "error": True})  # k > every class count
    cases.append({"labels": [0, 1], "k": 1, "error": True})
    return cases


# ---------------------------------------------------------------- PCA, clustering scores
def make_pca():
    cases = []
    for n, d, k in [(5, 3, 2), (10, 4, 4), (20, 6, 3), (30, 10, 5), (8, 8, 8), (12, 3, 1), (40, 5, 5),
                    (6, 10, 6), (25, 4, 2), (50, 12, 6), (15, 7, 7), (9, 2, 2), (60, 3, 3),
                    (18, 9, 4), (7, 5, 5), (100, 6, 6), (11, 11, 5), (3, 2, 2), (35, 8, 8),
                    (14, 6, 1)]:
        k = min(k, n - 1)  # centred data has rank <= n - 1: further components are arbitrary
        scales = np.linspace(3.0, 0.5, d)  # well separated spectrum: unique components
        x = np.round(normal(n, d) * scales + normal(d) * 10, 4)
        p = PCA(n_components=k, svd_solver="full").fit(x)
        cases.append({"x": [floats(r) for r in x], "k": k,
                      "explained_variance": floats(p.explained_variance_),
                      "explained_variance_ratio": floats(p.explained_variance_ratio_),
                      "abs_components": [floats(np.abs(r)) for r in p.components_]})
    return cases


def labelling_pairs():
    out = []
    for n, ka, kb in [(2, 1, 2), (5, 2, 2), (10, 3, 3), (20, 2, 5), (50, 4, 4), (100, 8, 8),
                      (30, 1, 1), (12, 12, 3), (7, 3, 1), (40, 5, 2)]:
        a = rng.integers(0, ka, size=n) * 10 + 1
        b = rng.integers(0, kb, size=n) - 5
        out.append((a, b))
    a = np.repeat(np.arange(4), 5)
    out.append((a, a * 3 + 2))                  # identical partitions, other ids
    out.append((a, np.tile(np.arange(5), 4)))   # exactly independent
    out.append((a, np.arange(20)))              # every item its own cluster
    b = a.copy(); b[[0, 7]] = b[[7, 0]]
    out.append((a, b))                          # one swap
    out.append((np.zeros(6, int), np.arange(6)))
    out.append((np.arange(6), np.arange(6)))
    out.append((rng.integers(0, 3, size=300), rng.integers(0, 3, size=300)))
    out.append((np.array([0]), np.array([0])))
    out.append((np.array([0, 1]), np.array([1, 0])))
    out.append((np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])))
    return out


def make_cluster_scores():
    ari, nmi = [], []
    for a, b in labelling_pairs():
        ari.append({"a": a.tolist(), "b": b.tolist(), "expected": adjusted_rand_score(a, b)})
        nmi.append({"a": a.tolist(), "b": b.tolist(),
                    "expected": normalized_mutual_info_score(a, b, average_method="arithmetic")})
    return ari, nmi


def make_silhouette():
    cases = []
    for n, d, k in [(4, 2, 2), (6, 3, 2), (10, 2, 3), (20, 5, 4), (30, 3, 2), (50, 8, 5), (9, 1, 3),
                    (15, 4, 7), (40, 2, 6), (12, 6, 2), (25, 10, 3), (8, 2, 4), (60, 4, 3),
                    (5, 5, 4), (18, 3, 3), (33, 7, 2), (11, 2, 5), (100, 3, 4)]:
        centres = normal(k, d) * 4
        labels = np.concatenate([np.arange(k), rng.integers(0, k, size=n - k)])
        x = np.round(centres[labels] + normal(n, d), 4)
        ids = labels * 5 - 7
        d_exact = cdist(x, x)  # exact differences, like the C++ (sklearn's own metric uses the
        s = silhouette_score(d_exact, ids, metric="precomputed")  # dot-product shortcut)
        cases.append({"x": [floats(r) for r in x], "labels": ids.tolist(), "expected": s})
    x = np.array([[0.0], [0.0], [1.0], [1.0]])  # duplicate points: a = 0 -> s = 1
    cases.append({"x": x.tolist(), "labels": [0, 0, 1, 1],
                  "expected": silhouette_score(cdist(x, x), [0, 0, 1, 1], metric="precomputed")})
    x = np.array([[0.0], [5.0], [6.0]])  # a singleton cluster scores 0
    cases.append({"x": x.tolist(), "labels": [3, 1, 1],
                  "expected": silhouette_score(cdist(x, x), [3, 1, 1], metric="precomputed")})
    cases.append({"x": [[0.0], [1.0], [2.0]], "labels": [0, 0, 0], "error": True})
    cases.append({"x": [[0.0], [1.0], [2.0]], "labels": [0, 1, 2], "error": True})
    return cases


def main():
    pear, spear = make_pearson_spearman()
    mwu_cases, mwu_pairs = make_mwu()
    ari, nmi = make_cluster_scores()
    golden = {
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__,
                     "sklearn": sklearn.__version__, "pingouin": pingouin.__version__},
        "auroc": make_auroc(), "mann_whitney": mwu_cases,
        "mann_whitney_pairs": mwu_pairs, "welch": make_welch(),
        "cohens_d": make_cohen(), "bootstrap": make_bootstrap(), "quantile": make_quantile(),
        "pearson": pear, "spearman": spear, "partial_correlation": make_partial(),
        "best_threshold": make_threshold(), "stratified_k_fold": make_folds(),
        "pca": make_pca(), "adjusted_rand_index": ari, "normalized_mutual_information": nmi,
        "silhouette": make_silhouette(),
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(golden, f, separators=(",", ":"), allow_nan=False,
                  default=lambda o: o.item())  # numpy scalars
        f.write("\n")
    for name, cases in golden.items():
        if name not in ("versions", "mann_whitney_pairs"):
            print(f"{name}: {len(cases)} cases")
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
