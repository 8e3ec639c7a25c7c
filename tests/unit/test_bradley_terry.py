"""The Bradley–Terry fit recovers known strengths from synthetic choices, and separates a length bias from them."""

import math
import random

from playground.research.bradley_terry import Comparison, fit

TRUE = {"user": 0.0, "persona": -0.6, "global": -1.2}


def simulate(n, beta, seed=1, longer=None):
    rng = random.Random(seed)
    names = list(TRUE)
    out = []
    for _ in range(n):
        a, b = rng.sample(names, 2)
        la, lb = rng.randint(40, 200), rng.randint(40, 200)
        if longer:  # this condition writes twice as long
            la, lb = la * (2 if a == longer else 1), lb * (2 if b == longer else 1)
        z = TRUE[a] - TRUE[b] + beta * (math.log(la) - math.log(lb))
        out.append(Comparison(a, b, rng.random() < 1 / (1 + math.exp(-z)), la, lb))
    return out


def test_known_strengths_and_length_effect_are_recovered():
    f = fit(simulate(6000, beta=0.8), list(TRUE))
    assert f.converged and f.n == 6000
    for c, v in TRUE.items():
        assert abs(f.strength[c] - v) < 0.12, (c, f.strength[c])
        assert abs(f.strength[c] - v) < 3 * f.se[c] + 1e-9 or c == "user"
    assert abs(f.length_effect - 0.8) < 0.15


def test_length_covariate_removes_a_bias_that_win_rates_keep():
    # 'global' is the weakest condition but writes twice as long; length sways the votes strongly.
    comps = simulate(6000, beta=1.5, seed=2, longer="global")
    naive = fit(comps, list(TRUE), with_length=False)
    adjusted = fit(comps, list(TRUE))
    assert naive.strength["global"] > TRUE["global"] + 0.5, "without the covariate length looks like strength"
    assert abs(adjusted.strength["global"] - TRUE["global"]) < 0.15
    assert abs(adjusted.length_effect - 1.5) < 0.2


def test_a_condition_that_always_wins_gets_a_finite_strength():
    comps = [Comparison("a", "b", True, 50, 50) for _ in range(20)]
    f = fit(comps, ["a", "b"])
    assert f.converged and math.isfinite(f.strength["b"]) and f.strength["b"] < -2
