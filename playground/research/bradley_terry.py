"""A Bradley–Terry fit over a study's conditions with answer length as a covariate.

Win rates count votes; but longer answers win votes whatever wrote them, so a condition that happens to write longer
answers looks better than it is. The fit models each pairwise choice as

    P(A preferred over B) = σ(θ_A − θ_B + β · (log words_A − log words_B))

(ties left out), so θ is a condition's strength at equal length and β says how much length alone sways the choice.
θ of the first condition is fixed at 0 (strengths are relative). It is logistic regression without an intercept,
fitted by Newton's method with a small ridge penalty (so a condition that always wins still gets a finite value);
standard errors come from the inverse of the penalised information matrix. Pure numpy: no page or database here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass(frozen=True)
class Comparison:
    a: str  # condition shown as A
    b: str
    a_won: bool
    length_a: float  # words in answer A
    length_b: float


@dataclass(frozen=True)
class Fit:
    conditions: list[str]
    strength: dict[str, float]  # θ, the first condition 0
    se: dict[str, float]  # standard error of θ (0 for the reference)
    length_effect: float  # β per unit of log word-count ratio
    length_se: float
    n: int  # comparisons used (ties excluded)
    converged: bool

    def p_beats(self, a: str, b: str) -> float:
        """Probability that ``a`` is preferred over ``b`` at equal length."""
        return 1.0 / (1.0 + math.exp(-(self.strength[a] - self.strength[b])))


def fit(comparisons: Sequence[Comparison], conditions: Sequence[str] | None = None, *, with_length: bool = True,
        ridge: float = 1e-3, max_iter: int = 100) -> Fit:
    """Fit strengths (and the length effect) by penalised maximum likelihood."""
    conds = list(conditions) if conditions else sorted({c.a for c in comparisons} | {c.b for c in comparisons})
    if len(conds) < 2:
        raise ValueError("a Bradley–Terry fit needs at least two conditions")
    index = {c: i for i, c in enumerate(conds)}
    k = len(conds) - 1 + (1 if with_length else 0)
    rows, y = [], []
    for c in comparisons:
        r = np.zeros(k)
        if index[c.a]:
            r[index[c.a] - 1] += 1.0
        if index[c.b]:
            r[index[c.b] - 1] -= 1.0
        if with_length:
            r[-1] = math.log(max(c.length_a, 1.0)) - math.log(max(c.length_b, 1.0))
        rows.append(r)
        y.append(1.0 if c.a_won else 0.0)
    X = np.array(rows).reshape(len(rows), k)
    t = np.array(y)
    w = np.zeros(k)
    converged = False
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        grad = X.T @ (t - p) - ridge * w
        hess = (X.T * (p * (1 - p))) @ X + ridge * np.eye(k)
        step = np.linalg.solve(hess, grad)
        w += step
        if np.max(np.abs(step)) < 1e-9:
            converged = True
            break
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    cov = np.linalg.inv((X.T * (p * (1 - p))) @ X + ridge * np.eye(k))
    se = np.sqrt(np.diag(cov))
    strength = {conds[0]: 0.0, **{c: float(w[i - 1]) for c, i in index.items() if i}}
    ses = {conds[0]: 0.0, **{c: float(se[i - 1]) for c, i in index.items() if i}}
    return Fit(conds, strength, ses, float(w[-1]) if with_length else 0.0, float(se[-1]) if with_length else 0.0,
               len(rows), converged)
