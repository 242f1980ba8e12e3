"""The model runner: a scenario becomes the Vensim model's parameters, the engine runs them,
and the results come back as tidy tables of the plan's indicators.

The ``.mdl`` file is the single source of truth. The engine (:mod:`simulator.sd.engine`) runs it
by default; PySD's translation (:mod:`simulator.sd.translate`) is the reference, loaded fresh for
every run so that no parameter, time step or state leaks from one run into the next.
"""
from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from simulator.base import inputs
from simulator.plan import tables
from simulator.plan.scenario import Scenario
from simulator.sd import engine as sd_engine
from simulator.sd.translate import _quiet_pysd, doc_limits, load_translated, translated_file

#: Columns of a tidy results table.
RESULT_COLUMNS = ["scenario", "time", "variable", "value", "unit"]


def engine_for(mdl_file: str | Path = tables.MODEL_FILE, *, fallback: bool = True):
    """The engine of the Guangyuan model (or of ``mdl_file``), parsed once per process.

    A run saves every indicator of ``models/indicators.csv`` unless told otherwise.

    Parameters
    ----------
    mdl_file : str or Path, optional
        The Vensim model; default ``models/guangyuan_innovation.mdl``.
    fallback : bool, default True
        Run a model the engine refuses on PySD instead, with a warning
        (see :func:`simulator.sd.engine.engine_for`).

    Returns
    -------
    simulator.sd.engine.Engine or simulator.sd.engine.PySDRunner
        The same object for the same file and settings within a process.

    Raises
    ------
    simulator.sd.engine.EngineError
        With ``fallback=False``, for a model the engine cannot run exactly.

    Examples
    --------
    >>> from simulator import engine_for
    >>> table = engine_for().run(time_step=0.25).run()   # indicators, one run   # doctest: +SKIP
    """
    return sd_engine.engine_for(mdl_file, fallback=fallback,
                                default_variables=[i.variable for i in tables.indicators()])


def random_draws(n: int, seed: int | None = None, engine=None
                 ) -> dict[str, np.ndarray]:
    """``n`` uniform random parameter sets over every range the model knows.

    The ranges: each lever in each plan period, each scenario assumption and each uncertain
    constant (a constant with a [min, max] range in the ``.mdl``).

    Parameters
    ----------
    n : int
        Number of parameter sets.
    seed : int, optional
        Seed of ``np.random.default_rng(seed)``; None (default) draws fresh entropy.
    engine : Engine, optional
        Whose documented ranges to draw from; default :func:`engine_for` ``()``.

    Returns
    -------
    dict of str to numpy.ndarray
        Python name → ``n`` values, in the model's units; ready for ``engine.run(params)``.
    """
    rng = np.random.default_rng(seed)
    engine = engine or engine_for()
    params = {k: rng.uniform(lo, hi, n) for k, (lo, hi) in engine.limits.items()
              if k not in inputs.CONTROL}
    for lev in tables.levers():
        for period in tables.PERIODS:
            params[lev.period_param(period)] = rng.uniform(lev.min, lev.max, n)
    for ass in tables.assumptions():
        params[ass.param] = rng.uniform(ass.min, ass.max, n)
    return params



# "auto" picks the faster backend measured on this model, with every range varied.
sd_engine.set_reference_workload(engine_for, random_draws)


class Model:
    """The Guangyuan innovation model, ready to run scenarios.

    Parameters
    ----------
    mdl_file : path, optional
        The Vensim model; defaults to ``models/guangyuan_innovation.mdl``.
    backend : {"engine", "pysd"}
        ``"engine"`` (default) runs numpy code generated from PySD's abstract model
        (:mod:`simulator.sd.engine`; ``benchmarks/ensemble.py`` measures it); ``"pysd"`` runs
        the PySD translation, the reference the tests compare the engine against. Both give the
        same results to rounding.

    Raises
    ------
    ValueError
        For an unknown ``backend``, or a model that lacks a variable of
        ``models/indicators.csv``.

    Examples
    --------
    >>> from simulator import Model, scenario
    >>> model = Model()                                             # doctest: +SKIP
    >>> results = model.run(scenario.load("scenarios/plan.yaml"))   # doctest: +SKIP
    """

    BACKENDS = ("engine", "pysd")

    def __init__(self, mdl_file: str | Path = tables.MODEL_FILE, backend: str = "engine"):
        if backend not in self.BACKENDS:
            raise ValueError(f"backend must be one of {self.BACKENDS}, got {backend!r}")
        self.mdl_file = Path(mdl_file)
        self.backend = backend
        if backend == "engine":
            from simulator.sd.engine import EngineError, EngineFallbackWarning, fallback_notice
            try:
                self.engine = engine_for(self.mdl_file, fallback=False)
            except EngineError as err:  # an edited model the engine refuses still runs
                warnings.warn(fallback_notice(self.mdl_file, err), EngineFallbackWarning,
                              stacklevel=2)
                self.backend = backend = "pysd"
            else:
                self.python_names = self.engine.variables
                self.time_step = self.engine.constants["time_step"]
                self.initial_time = self.engine.constants["initial_time"]
                self.final_time = self.engine.constants["final_time"]
                self.saveper = self.engine.constants["saveper"]
                lower, both = self.engine.lower_limits, self.engine.limits
        if backend == "pysd":
            self.py_file = translated_file(self.mdl_file)
            probe = self._load()
            self.python_names = frozenset(probe.namespace.values())
            self.time_step: float = float(probe.components.time_step())
            self.initial_time: float = float(probe.components.initial_time())
            self.final_time: float = float(probe.components.final_time())
            self.saveper: float = float(probe.components.saveper())
            lower, both = doc_limits(probe.doc)
        # documented ranges, for refusing a negative value where the range starts at 0 or more
        # (a lower limit alone, ``[0,?]``, counts too)
        self._limits = {k: both.get(k, (lo, math.inf)) for k, lo in lower.items()}
        missing = [i.id for i in tables.indicators() if i.variable not in self.python_names]
        if missing:
            raise ValueError(f"{self.mdl_file}: indicators missing from the model: {missing}")

    def _load(self):
        return load_translated(self.py_file)

    @property
    def years(self) -> np.ndarray:
        """The year ends reported in results (2020 ... 2035)."""
        return np.arange(self.initial_time, self.final_time + 0.5, 1.0)

    def constants(self) -> dict[str, float]:
        """Default values of every constant of the model, by Python name.

        Returns
        -------
        dict of str to float
            Python name → value in the model's units, as the ``.mdl`` sets it.
        """
        if self.backend == "engine":
            return dict(self.engine.constants)
        model = self._load()
        doc = model.doc
        consts = doc[doc["Type"] == "Constant"]["Py Name"]
        return {name: float(getattr(model.components, name)()) for name in consts}

    def run_wide(self, scenario: Scenario, *, params: Mapping[str, float] | None = None,
                 variables: Sequence[str] | None = None, time_step: float | None = None,
                 extra: Sequence[str] = ()) -> pd.DataFrame:
        """Run ``scenario`` and return a wide table: one row per year end, one column per variable.

        Parameters
        ----------
        scenario : Scenario
            Lever settings and assumptions.
        params : mapping, optional
            Extra PySD parameters by Python name (uncertain constants, or any variable replaced
            by a constant for an extreme-condition test). They override the scenario.
        variables : sequence of str, optional
            Python names to return; default every indicator (columns named by indicator id).
        time_step : float, optional
            Integration step in years; default the model's TIME STEP (1/16).
        extra : sequence of str, optional
            Python names saved by the same run besides the indicators, each a column of its own
            name (with ``variables`` omitted; the app reads the budget variables this way).

        Returns
        -------
        pandas.DataFrame
            Index ``time`` (year ends, float), one column per indicator id (or per Python name
            in ``variables``) and per name in ``extra``, in the model's units. An indicator is
            NaN in the years before it is defined.

        Raises
        ------
        simulator.base.inputs.InputError
            (a ValueError) for a parameter that is not a finite number, a negative value of a
            constant whose documented range starts at 0, or run settings that cannot run: a
            step or SAVEPER not above 0, FINAL TIME not after INITIAL TIME, or more than
            :data:`simulator.base.inputs.MAX_STEPS` steps
            (:func:`simulator.base.inputs.check_params`).
        KeyError
            For a name in ``params``, ``variables`` or ``extra`` the model does not have.
        ValueError
            For ``extra`` together with ``variables``, or a name in ``extra`` that is an
            indicator's variable (it is a column already).
        """
        from simulator.sd.engine import EngineError, EngineFallbackWarning, fallback_notice
        all_params = scenario.params()
        if params:
            unknown = sorted(set(params) - self.python_names)
            if unknown:
                raise KeyError(f"unknown model variables {unknown}; use PySD Python names")
        all_params.update(inputs.check_params(
            params, time_step, initial_time=self.initial_time, final_time=self.final_time,
            default_time_step=self.time_step, default_saveper=self.saveper, limits=self._limits))
        if extra and variables is not None:
            raise ValueError("run_wide: pass the names to save in 'variables' or in 'extra', "
                             "not both")
        unknown = sorted(set(variables or extra) - self.python_names)
        if unknown:
            raise KeyError(f"unknown model variables {unknown}; use PySD Python names")
        if variables is None:
            columns = {i.variable: i.id for i in tables.indicators()}
            twice = sorted(set(extra) & set(columns))
            if twice:
                raise ValueError(f"run_wide: {twice} in 'extra' are indicators' variables, "
                                 "saved already")
            columns.update({v: v for v in extra})
        else:
            columns = {v: v for v in variables}
        out = None
        if self.backend == "engine":
            try:
                out = self.engine.run(all_params, variables=list(columns),
                                      time_step=time_step).run()
            except EngineError as err:  # refused at run time (a delay shorter than its order)
                warnings.warn(fallback_notice(self.mdl_file, err, "model with these settings"),
                              EngineFallbackWarning, stacklevel=2)
                self.py_file = translated_file(self.mdl_file)
            else:
                out = out.rename(columns=columns)
        if out is None:
            model = self._load()
            ctx = _quiet_pysd()
            try:
                out = model.run(params=all_params, return_columns=list(columns),
                                return_timestamps=self.years, time_step=time_step,
                                saveper=1.0)
            finally:
                ctx.__exit__(None, None, None)
            namespace = dict(model.namespace)
            out = out.rename(columns=lambda c: columns.get(namespace.get(c, c), c))
        out.index = out.index.astype(float)
        out.index.name = "time"
        if variables is None:
            for ind in tables.indicators():
                out.loc[out.index < ind.defined_from - 1e-9, ind.id] = np.nan
        return out

    def run(self, scenario: Scenario, *, params: Mapping[str, float] | None = None,
            time_step: float | None = None) -> pd.DataFrame:
        """Run ``scenario``; tidy results with columns ``scenario, time, variable, value, unit``.

        Parameters
        ----------
        scenario : Scenario
            Lever settings and assumptions.
        params : mapping, optional
            Extra parameters by PySD Python name; they override the scenario (as in
            :meth:`run_wide`).
        time_step : float, optional
            Integration step in years; default the model's TIME STEP (1/16).

        Returns
        -------
        pandas.DataFrame
            One row per indicator and year end. ``variable`` is the indicator id, ``unit`` the
            plan's unit (``indicators.csv``), ``time`` the year end as a float. Indicators
            undefined in a year (``rd_spending_growth`` in 2020) have a missing value there.

        Raises
        ------
        simulator.base.inputs.InputError, KeyError
            As :meth:`run_wide`.

        Examples
        --------
        >>> from simulator import Model, load_scenario
        >>> Model().run(load_scenario("scenarios/plan.yaml")).columns.tolist()  # doctest: +SKIP
        ['scenario', 'time', 'variable', 'value', 'unit']
        """
        return tidy(self.run_wide(scenario, params=params, time_step=time_step), scenario.name)

    def run_many(self, scenarios: Iterable[Scenario]) -> pd.DataFrame:
        """Run several scenarios; their tidy results stacked.

        Parameters
        ----------
        scenarios : iterable of Scenario
            Run one after another with the model's defaults (no extra ``params``).

        Returns
        -------
        pandas.DataFrame
            The tidy results of :meth:`run`, one block per scenario, told apart by ``scenario``.
        """
        return pd.concat([self.run(s) for s in scenarios], ignore_index=True)


def tidy(wide: pd.DataFrame, scenario_name: str) -> pd.DataFrame:
    """Turn a wide indicator table into tidy results.

    Parameters
    ----------
    wide : pandas.DataFrame
        Index ``time``, columns indicator ids (as :meth:`Model.run_wide` returns); columns that
        are not indicators are dropped.
    scenario_name : str
        Written in the ``scenario`` column.

    Returns
    -------
    pandas.DataFrame
        Columns ``scenario, time, variable, value, unit`` (:data:`RESULT_COLUMNS`), indicators
        in the order of ``models/indicators.csv``, units the plan's.
    """
    units = {i.id: i.unit_zh for i in tables.indicators()}
    order = [i.id for i in tables.indicators() if i.id in wide.columns]
    long = (wide[order].reset_index().melt(id_vars="time", var_name="variable", value_name="value"))
    long.insert(0, "scenario", scenario_name)
    long["unit"] = long["variable"].map(units)
    return long[RESULT_COLUMNS]


def wide(results: pd.DataFrame, scenario_name: str | None = None) -> pd.DataFrame:
    """The inverse of :func:`tidy` for one scenario: index time, one column per indicator.

    Parameters
    ----------
    results : pandas.DataFrame
        Tidy results (:meth:`Model.run`), of one or more scenarios.
    scenario_name : str, optional
        The scenario to widen; may be left out when ``results`` hold only one.

    Returns
    -------
    pandas.DataFrame
        Index ``time``, one column per indicator id, in the order of ``models/indicators.csv``.

    Raises
    ------
    ValueError
        When ``results`` hold several scenarios and ``scenario_name`` is not given.
    """
    if scenario_name is not None:
        results = results[results["scenario"] == scenario_name]
    elif results["scenario"].nunique() > 1:
        raise ValueError("results hold several scenarios; name the one to widen")
    table = results.pivot(index="time", columns="variable", values="value")
    order = [i.id for i in tables.indicators() if i.id in table.columns]
    table = table[order]
    table.columns.name = None
    return table
