"""Write docs/img/trajectories.png, the README's figure: the key indicators under the three
shipped scenarios, drawn by the app's own figure pack (so it looks like what planners export).

    python docs/make_readme_figure.py
"""
from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from simulator import Model, load_scenario, scorecard
from simulator.app import exports, session  # noqa: E402


def main() -> Path:
    model = Model()
    scenarios = [load_scenario(REPO / "scenarios" / f"{n}.yaml")
                 for n in ("plan", "ambitious", "baseline")]
    series = {session.short_title(s, "zh"): model.run(s) for s in scenarios}
    first = next(iter(series.values()))
    pack = exports.figure_pack(series, scorecard(first), "zh", title="情景比较",
                               dashed=[session.short_title(scenarios[-1], "zh")])
    out = REPO / "docs" / "img" / "trajectories.png"
    with zipfile.ZipFile(io.BytesIO(pack)) as zf:
        out.write_bytes(zf.read("2-key-indicators.png"))
    return out


if __name__ == "__main__":
    print(f"wrote {main()}")
