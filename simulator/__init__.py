"""广元市“十四五”科技创新和知识产权规划 — system-dynamics scenario simulator.

The public API, for notebooks and the app::

    from simulator import Model, load_scenario, scorecard
    model = Model()                                  # translate (if needed) and load the .mdl
    plan = load_scenario("scenarios/plan.yaml")      # strictly validated
    results = model.run(plan)                        # tidy: scenario, time, variable, value, unit
    scorecard(results)                               # every 2025 and 2035 target

The package never imports Streamlit.
"""
import sys

try:
    from . import goals, scenario, tables
    from .goals import compare, scorecard
    from .model import Model, tidy, wide
    from .scenario import Scenario, ScenarioError
    from .scenario import load as load_scenario
    from .scenario import loads as loads_scenario
except KeyboardInterrupt:
    if sys.argv[:1] == ["-m"]:  # Ctrl-C while ``python -m simulator`` is still starting
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    raise

__all__ = [
    "Model", "Scenario", "ScenarioError", "compare", "goals", "load_scenario", "loads_scenario",
    "scenario", "scorecard", "tables", "tidy", "wide",
]
