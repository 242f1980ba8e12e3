"""广元市“十四五”科技创新和知识产权规划 — system-dynamics scenario simulator.

The public API, for notebooks and the app::

    from simulator import Model, load_scenario, scorecard
    model = Model()                                  # translate (if needed) and load the .mdl
    plan = load_scenario("scenarios/plan.yaml")      # strictly validated
    results = model.run(plan)                        # tidy: scenario, time, variable, value, unit
    scorecard(results)                               # every 2025 and 2035 target

The package never imports Streamlit.
"""
import importlib
import importlib.util
import sys

# The public names, imported on first use (PEP 562), so that ``python -m simulator --help``
# does not import numpy and pandas.
_LAZY = {
    "Model": ("model", "Model"), "tidy": ("model", "tidy"), "wide": ("model", "wide"),
    "engine_for": ("model", "engine_for"), "random_draws": ("model", "random_draws"),
    "compare": ("plan.goals", "compare"), "scorecard": ("plan.goals", "scorecard"),
    "Scenario": ("plan.scenario", "Scenario"),
    "ScenarioError": ("plan.scenario", "ScenarioError"),
    "load_scenario": ("plan.scenario", "load"), "loads_scenario": ("plan.scenario", "loads"),
    # modules the README and the notebooks import from here (their homes: docs/architecture.md)
    **{name: (f"plan.{name}", None) for name in ("actuals", "goals", "scenario", "tables")},
    **{name: (f"analysis.{name}", None) for name in (
        "calibration", "conditioning", "hindcast", "loops", "milestones", "sensitivity",
        "solver", "uncertainty", "validation")},
    "units": ("sd.units", None),
}


def __getattr__(name: str):
    """A public name, or a subpackage or module, imported on first use."""
    # a name not in _LAZY: a subpackage or module, as ``simulator.model`` after ``import simulator``
    if name not in _LAZY:
        if name.startswith("_") or importlib.util.find_spec(f"{__name__}.{name}") is None:
            raise AttributeError(f"module 'simulator' has no attribute {name!r}")
    module, attr = _LAZY.get(name, (name, None))
    try:
        value = importlib.import_module(f".{module}", __name__)
    except KeyboardInterrupt:
        if sys.argv[:1] == ["-m"]:  # Ctrl-C while ``python -m simulator`` is still starting
            print("interrupted", file=sys.stderr)
            raise SystemExit(130) from None
        raise
    value = value if attr is None else getattr(value, attr)
    globals()[name] = value
    return value


__all__ = [
    "Model", "Scenario", "ScenarioError", "compare", "engine_for", "load_scenario",
    "loads_scenario", "random_draws", "scorecard", "tidy", "wide",
    "actuals", "calibration", "conditioning", "goals", "hindcast", "loops", "milestones",
    "scenario", "sensitivity", "solver", "tables", "uncertainty", "units", "validation",
]
