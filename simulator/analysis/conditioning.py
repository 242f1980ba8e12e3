"""Conditioning the uncertainty ensemble on the 2015–2020 observations (history matching).

The uncertain constants of ``models/uncertainty.yaml`` are drawn from their prior distributions
(:func:`simulator.analysis.uncertainty.sample`). Many draws make the model contradict what was
observed before the plan; this module keeps only the draws that do not. The method is history
matching (Craig, Goldstein, Seheult & Smith 1997; Vernon, Goldstein & Bower 2010, *Bayesian
Analysis* 5(4); Andrianakis et al. 2015, *PLoS Comput. Biol.* 11(1)), evaluated directly on the
model (the vectorised engine is cheap enough that no emulator is needed).

What a draw is compared with
    The calibration's facts (``data/calibration_targets.csv``,
    :mod:`simulator.analysis.calibration`) of the roles :data:`ROLES`, by default ``fit`` only,
    every one dated 2020 or earlier. ``anchor`` facts are the model's initial values (met by
    construction), ``excluded`` ones are not comparable, and each ``check`` fact carries a
    documented reason why the calibration run is the wrong comparison for it (a filing boom or
    policy changes the run holds constant, another definition, a census revision): conditioning
    on one would reject draws for the model's structure, not for their constants
    (``roles=("fit", "check")`` does it anyway, and with the model of this writing keeps no
    draw, docs/calibration.md). A fact dated after 2020 is refused (:class:`ConditioningError`):
    the project judges the model by how it forecasts the years it does not hold. The model value
    of a fact is the calibration's: the calibration run (every lever at its 2020 level, default
    assumptions, calibrated constants of ``models/calibration.yaml``, the draw's uncertain
    constants) carried back from 2020 at its 2020–2025 average growth
    (:meth:`simulator.analysis.calibration.Problem.model_values`, one vectorised engine run for
    all draws).

Implausibility
    For fact *j* with observation ``z_j`` and model value ``f_j``::

        I_j = |z_j - f_j| / sqrt(var_obs_j + var_disc_j),
        sd_obs_j = sigma_j * |z_j|,   sd_disc_j = DISCREPANCY * |z_j|

    ``sigma_j`` is the fact's documented relative uncertainty; a one-sided fact (``le``/``ge``)
    counts only when violated (``I_j = 0`` otherwise). A draw whose model values are not finite
    has ``I = inf``. The draw's implausibility is the **largest** ``I_j`` over the facts used.
    With a dozen facts on different quantities, each fact is informative on its own and the
    maximum is the usual choice (Vernon et al. use the second or third largest when hundreds of
    outputs make one bad match likely by chance; here that would let a draw ignore any one
    observation). A draw is kept when its implausibility is at most :data:`CUT` = 3, Pukelsheim's
    (1994) three-sigma rule: any unimodal distribution puts at least 95 % of its mass within
    three standard deviations.

Model discrepancy (:data:`DISCREPANCY`)
    The model is not the city: its implied history is a constant-growth carry-back of a
    five-year run, while the observed series moved by 10 % and more from one year to the next
    (trademark registrations rose 42 % and 85 % in 2017–2018; certifications swing with the
    three-year renewal cycle). A relative discrepancy of 0.10 (one standard deviation) is of
    that size and equal to the ``sigma`` of the noisier fitted facts (trademarks, the 2015
    levels): a fact observed to 5 % then admits model values within ±34 %
    (3 × sqrt(0.05² + 0.10²)), one observed to 15 % within ±54 %. It is a judgement, stated
    here and in ``docs/calibration.md``.

Drawing to a size
    To keep ``n`` draws, the first round draws ``n`` (the very draws ``sample(spec, n, seed)``
    gives, so the conditioned ensemble starts as the consistent part of the prior one); each
    further round draws ``n`` more, a Latin hypercube seeded by the next child of
    ``numpy.random.SeedSequence(seed)``, until ``n`` draws are consistent or
    :data:`MAX_DRAWS_FACTOR` × ``n`` have been drawn. Rounds of one size need one compiled
    program on the XLA backend (a round sized by the acceptance would compile another, which
    costs more than running ``n`` draws). The ensemble is the first ``n``
    consistent draws in drawing order; ``drawn`` counts the draws up to the last one kept, so
    ``kept + rejected = drawn``. Fewer than ``min_kept`` (default ``n``) consistent draws at the
    cap raise :class:`ConditioningError`. The same seed (0 included) gives the same ensemble;
    ``None`` draws fresh entropy.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import numpy as np
import pandas as pd

from simulator.analysis import calibration
from simulator.analysis.calibration import CalTarget
from simulator.base.inputs import InputError

if TYPE_CHECKING:  # only for type hints: uncertainty imports this module, not the reverse
    from simulator.analysis.uncertainty import UncertaintySpec

#: Implausibility cut (Pukelsheim's three-sigma rule).
CUT = 3.0
#: Relative model discrepancy (one standard deviation as a share of the observed value).
DISCREPANCY = 0.10
#: Roles of the calibration facts a draw must be consistent with (see the module docstring on
#: why ``check`` facts are not among them by default).
ROLES = ("fit",)
#: At most this many times ``n`` draws are made to find ``n`` consistent ones (acceptance 5 %).
MAX_DRAWS_FACTOR = 20
#: Latest year of a fact (nothing after 2020 is used).
LAST_YEAR = calibration.BASE_YEAR
#: Engine runs per evaluation (bounds memory, as :data:`simulator.analysis.uncertainty.CHUNK`).
CHUNK = 10_000


class ConditioningError(InputError):
    """The ensemble cannot be conditioned as asked: too few draws of the uncertainty file are
    consistent with the data, or a fact is dated after 2020 (one line naming the cut and the
    counts, or the fact)."""


def facts(targets: Sequence[CalTarget] | None = None, roles: Sequence[str] = ROLES
          ) -> list[CalTarget]:
    """The facts a draw is compared with: ``targets`` (default ``data/calibration_targets.csv``)
    of the given ``roles``. Raises :class:`ConditioningError` for one dated after 2020."""
    bad = [r for r in roles if r not in ("fit", "check")]
    if bad or not roles:
        raise ValueError(f"roles: value {list(roles)!r} is not allowed; allowed fit and/or check")
    targets = calibration.load_targets() if targets is None else list(targets)
    used = [t for t in targets if t.role in roles]
    for t in used:
        if t.year is None or t.year > LAST_YEAR:
            raise ConditioningError(
                f"fact {t.id!r}: year {t.year!r} is not allowed; the ensemble is conditioned on "
                f"observations dated {LAST_YEAR} or earlier only (later data judge the forecast)")
    if not used:
        raise ConditioningError(f"no facts of role {' or '.join(roles)} to condition on")
    return used


def implausibility(model: np.ndarray, observed: np.ndarray, targets: Sequence[CalTarget],
                   discrepancy: float = DISCREPANCY) -> np.ndarray:
    """Implausibility of every fact in every run (facts × runs), see the module docstring.

    ``model`` and ``observed`` are as :meth:`simulator.analysis.calibration.Problem.model_values`
    returns them, in the order of ``targets``. ``inf`` where the model value is not finite
    (a failed run is never kept).
    """
    model = np.asarray(model, dtype=float)
    observed = np.asarray(observed, dtype=float)
    out = np.empty_like(model)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, t in enumerate(targets):
            gap = model[k] - observed[k]
            if t.comparison == "le":
                gap = np.maximum(gap, 0.0)
            elif t.comparison == "ge":
                gap = np.minimum(gap, 0.0)
            sd = np.abs(observed[k]) * math.hypot(t.sigma, discrepancy)
            out[k] = np.where(gap == 0, 0.0, np.abs(gap) / sd)
    out[~np.isfinite(out)] = np.inf  # a failed run (NaN) is implausible
    return out


@dataclass(frozen=True)
class Conditioned:
    """A prior ensemble conditioned on the 2015–2020 facts.

    Attributes
    ----------
    draws : DataFrame
        The kept draws (index ``run`` from 0, one column per varied constant), like
        :func:`simulator.analysis.uncertainty.sample` returns: the first consistent draws in
        drawing order.
    implausibility : ndarray (n,)
        Each kept draw's implausibility (the largest over the facts).
    drawn : int
        Draws examined, up to the last one kept (or every draw made, if fewer than asked were
        consistent).
    rejections : Series
        Fact id → draws (of ``drawn``) in which that fact's implausibility exceeds the cut; a
        draw may be ruled out by several facts.
    decisive : Series
        Fact id → rejected draws whose largest implausibility is that fact's (sums to
        ``rejected``).
    origin : ndarray (n,)
        Position of each kept draw in the sequence of all draws made (round after round).
    seed, cut, discrepancy, rounds, requested
        As used; ``requested`` is the ``n`` asked for.
    """

    draws: pd.DataFrame
    implausibility: np.ndarray
    drawn: int
    rejections: pd.Series
    decisive: pd.Series
    origin: np.ndarray
    seed: int | None
    cut: float
    discrepancy: float
    rounds: int
    requested: int

    @property
    def kept(self) -> int:
        return len(self.draws)

    @property
    def rejected(self) -> int:
        return self.drawn - self.kept

    @property
    def acceptance(self) -> float:
        """Share of the draws examined that are consistent with the facts."""
        return self.kept / self.drawn if self.drawn else math.nan

    def ruled_out_most(self, top: int = 3) -> list[tuple[str, int]]:
        """The facts that rule out most draws: (fact id, draws), largest first, ties by id."""
        pairs = [(k, int(v)) for k, v in self.rejections.items() if v > 0]
        return sorted(pairs, key=lambda kv: (-kv[1], kv[0]))[:top]

    def summary(self) -> str:
        """One line: how many draws were drawn and kept and which facts ruled most out."""
        text = (f"kept {self.kept:,} of {self.drawn:,} draws consistent with 2015–2020 "
                f"(implausibility ≤ {self.cut:g}, model discrepancy {self.discrepancy:.0%}; "
                f"acceptance {self.acceptance:.1%})")
        most = self.ruled_out_most()
        if most:
            text += "; ruled out most: " + ", ".join(f"{k} ({v:,})" for k, v in most)
        return text


def history_params(spec: "UncertaintySpec") -> dict[str, float]:
    """The shared parameters of the history runs: the calibration scenario (every lever at its
    2020 level, default assumptions) with the calibrated constants, and ``spec``'s fixed values."""
    from simulator.plan.scenario import default
    return {**default("calibration").params(), **spec.fixed}


def evaluate(problem: calibration.Problem, base: Mapping[str, Any], draws: pd.DataFrame,
             discrepancy: float = DISCREPANCY, chunk: int = CHUNK) -> np.ndarray:
    """Implausibility (facts × draws) of ``draws`` on top of ``base``, in chunks of runs."""
    cols = {c: draws[c].to_numpy(dtype=float) for c in draws.columns}
    n = len(draws)
    if not cols:  # nothing varies: one run stands for all
        model, obs = problem.model_values(dict(base))
        one = implausibility(model, obs, problem.targets, discrepancy)
        return np.repeat(one[:, :1], n, axis=1)
    parts = []
    for a in range(0, n, chunk):
        values = {**base, **{k: v[a:a + chunk] for k, v in cols.items()}}
        model, obs = problem.model_values(values)
        parts.append(implausibility(model, obs, problem.targets, discrepancy))
    return np.concatenate(parts, axis=1)


def condition(spec: "UncertaintySpec", n: int, seed: int | None = None, *,
              targets: Sequence[CalTarget] | None = None, roles: Sequence[str] = ROLES,
              cut: float = CUT, discrepancy: float = DISCREPANCY, max_draws: int | None = None,
              min_kept: int | None = None, engine=None) -> Conditioned:
    """``n`` draws of ``spec``'s uncertain constants consistent with the 2015–2020 facts.

    Parameters
    ----------
    spec : UncertaintySpec
        The prior distributions (:func:`simulator.analysis.uncertainty.load_spec`).
    n : int
        Draws to keep.
    seed : int or None
        Seeds every round (0 is a seed like any other; None: fresh entropy).
    targets : sequence of CalTarget, optional
        Facts to choose from (default ``data/calibration_targets.csv``); one dated after 2020
        is refused.
    roles : sequence of str, default :data:`ROLES`
        The roles of ``targets`` that are used.
    cut : float, default :data:`CUT`
        Largest implausibility kept (> 0).
    discrepancy : float, default :data:`DISCREPANCY`
        Relative model discrepancy (>= 0).
    max_draws : int, optional
        Most draws made (default :data:`MAX_DRAWS_FACTOR` × ``n``).
    min_kept : int, optional
        Fewest consistent draws accepted at the cap (default ``n``: the ensemble has ``n``
        draws or the call fails); between ``min_kept`` and ``n`` the ensemble is smaller.
    engine : Engine, optional
        Default :func:`simulator.model.engine_for` ``()``.

    Returns
    -------
    Conditioned
        The kept draws (one row per run, one column per varied constant), their
        implausibilities, how many were drawn, and per fact how many draws it ruled out.

    Raises
    ------
    ConditioningError
        Fewer than ``min_kept`` draws consistent after ``max_draws``; a fact after 2020.
    ValueError
        An ``n``, ``cut``, ``discrepancy``, ``min_kept`` or ``max_draws`` out of range.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n: value {n!r} is not allowed; allowed a whole number >= 1")
    for name, value in (("cut", cut), ("discrepancy", discrepancy)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value) or value < 0 or (name == "cut" and value == 0):
            raise ValueError(f"{name}: value {value!r} is not allowed; allowed a finite number "
                             f"{'> 0' if name == 'cut' else '>= 0'}")
    max_draws = MAX_DRAWS_FACTOR * n if max_draws is None else int(max_draws)
    min_kept = n if min_kept is None else int(min_kept)
    if not 1 <= min_kept <= n or max_draws < n:
        raise ValueError(f"min_kept {min_kept}, max_draws {max_draws}: not allowed; allowed "
                         f"1 <= min_kept <= n ({n}) <= max_draws")
    used = facts(targets, roles)
    problem = calibration.Problem(used, [], engine=engine)
    base = history_params(spec)
    root = np.random.SeedSequence(seed)
    # per round, only what the result needs: the consistent rows, and per draw whether each
    # fact rules it out and which fact is its largest (not every draw's values)
    frames, worst_kept, ok_mask, exceed, largest = [], [], [], [], []
    drawn = kept = rounds = 0
    size = n
    while True:
        # round 1 uses the root itself: its draws are sample(spec, n, seed)'s
        batch = spec.sample(size, root if rounds == 0 else root.spawn(1)[0])
        imp = evaluate(problem, base, batch, discrepancy)
        worst = imp.max(axis=0)
        ok = worst <= cut
        frames.append(batch.loc[ok])
        worst_kept.append(worst[ok])
        ok_mask.append(ok)
        exceed.append(imp > cut)
        largest.append(np.argmax(imp, axis=0))
        rounds += 1
        drawn += size
        kept += int(ok.sum())
        if kept >= n or drawn >= max_draws:
            break
        size = min(n, max_draws - drawn)
    ok_mask = np.concatenate(ok_mask)
    exceed = np.concatenate(exceed, axis=1)
    ok = np.flatnonzero(ok_mask)
    if len(ok) < min_kept:
        most = ", ".join(f"{t.id} ({int(c):,})" for t, c in
                         sorted(zip(used, exceed.sum(axis=1)), key=lambda p: -p[1])[:3])
        raise ConditioningError(
            f"only {len(ok):,} of {drawn:,} draws are consistent with 2015–2020 (implausibility "
            f"≤ {cut:g}, after the cap of {max_draws:,} draws); at least {min_kept:,} needed "
            f"(narrow the uncertainty file's ranges, or ask for the prior ensemble); ruled "
            f"out most: {most}")
    ok = ok[:n]
    if len(ok) == n:
        drawn = int(ok[-1]) + 1  # the draws after the n-th consistent one are not used
    exceed = exceed[:, :drawn]
    rejected = ~ok_mask[:drawn]
    # a rejected draw's largest implausibility picks its decisive fact (first one on ties)
    decisive = np.bincount(np.concatenate(largest)[:drawn][rejected], minlength=len(used))
    ids = [t.id for t in used]
    draws = pd.concat(frames, ignore_index=True).iloc[:len(ok)]
    draws.index = pd.RangeIndex(len(draws), name="run")
    return Conditioned(
        draws=draws, implausibility=np.concatenate(worst_kept)[:len(ok)], drawn=drawn,
        rejections=pd.Series(exceed.sum(axis=1), index=ids, name="rejections"),
        decisive=pd.Series(decisive, index=ids, name="decisive"), origin=ok, seed=seed,
        cut=float(cut), discrepancy=float(discrepancy), rounds=rounds, requested=n)
