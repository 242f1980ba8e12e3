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
    "compare": ("goals", "compare"), "scorecard": ("goals", "scorecard"),
    "Scenario": ("scenario", "Scenario"), "ScenarioError": ("scenario", "ScenarioError"),
    "load_scenario": ("scenario", "load"), "loads_scenario": ("scenario", "loads"),
    "goals": ("goals", None), "scenario": ("scenario", None), "tables": ("tables", None),
}


def __getattr__(name: str):
    if name not in _LAZY:  # a submodule, as ``simulator.model`` was after ``import simulator``
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
    "Model", "Scenario", "ScenarioError", "compare", "goals", "load_scenario", "loads_scenario",
    "scenario", "scorecard", "tables", "tidy", "wide",
]
