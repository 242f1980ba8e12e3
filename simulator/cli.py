"""Command line: ``python -m simulator run|goals|compare|uncertainty|sensitivity|solve|milestones|calibrate|validate|hindcast|loops``.

A user's mistake (a bad option or scenario file, an output path that cannot or may not be
written) ends with a one-line message on standard error and exit code 2, and nothing is run or
written; so does a failure to write the output (disk full, permission), which leaves no partial
file. Ctrl-C ends any command with the one line ``interrupted`` and exit code 130. Exit code 1
is kept for a command that ran and found a failure (``validate``, ``calibrate --check``).

``--out`` writes a regular file atomically (a temporary file in the same directory, then a
rename), with the permissions the umask gives a new file. It refuses a symbolic link, a
directory, a device or FIFO, any input file of the command, and an existing file unless
``--force`` is given.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from simulator.base import inputs, outputs
from simulator.base import text as termtext
from simulator.base.text import TABLE_WIDTH, format_against, format_number, format_table, wrap
from simulator.plan import scenario, tables
from simulator.present.terminal import (
    _SYMBOL,
    _target_decimals,
    compare_markdown,
    compare_table,
    scorecard_table,
    solve_report,
)

if TYPE_CHECKING:
    import pandas as pd

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

#: Largest seed accepted (seeds are handed to numpy and SALib, whose legacy seeding takes
#: 32-bit unsigned integers).
MAX_SEED = 2**32 - 1
#: Most runs one command may ask for: 10 million runs hold tens of gigabytes of results.
MAX_RUNS = 10_000_000
#: Memory held per run and scenario by an ensemble, in bytes: the saved indicators
#: (14 variables x 16 years x 8 bytes, twice while chunks are joined) and the draws
#: (61 constants x 8 bytes), rounded up.
BYTES_PER_RUN = 5_000


#: Defaults of ``loops`` (``--write-readme`` needs them: the README shows these).
REPO = Path(__file__).resolve().parent.parent
LOOPS_SCENARIO = str(REPO / "scenarios" / "plan.yaml")
LOOPS_FILE = str(REPO / "models" / "loops.csv")


class UserError(Exception):
    """A mistake in the command's input; reported in one line, exit code 2."""


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically (:func:`simulator.base.outputs.write_atomic`); a failure
    to write (disk full, permission) is a :class:`UserError`."""
    outputs.write_atomic(path, text, error=UserError, label=f"--out {path}")


def _input_paths(args) -> list[str]:
    """The files a command reads: its scenario files and its uncertainty file."""
    paths = [args.scenario] if getattr(args, "scenario", None) else []
    paths += list(getattr(args, "scenarios", None) or [])
    if getattr(args, "uncertainty", None):
        paths.append(args.uncertainty)
    if getattr(args, "observed", None):  # a file of actuals (hindcast, milestones)
        paths.append(args.observed)
    if getattr(args, "loops", None):  # a loop table (loops)
        paths.append(args.loops)
    return paths


def _check_output(path: Path, args=None) -> None:
    """Refuse an ``--out`` that cannot or may not be written, before anything is run.

    With the command's ``args``, an existing file is also refused unless ``--force`` is given,
    and an input of the command always; without (``calibrate``, whose job is to replace its
    parameter file), only targets that are not regular files are refused.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise UserError(f"--out {path}: directory {directory} does not exist")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UserError(f"--out {path}: cannot check it ({exc.strerror})") from None
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise UserError(f"--out {path}: is a directory; give a file name such as results.csv")
        if stat.S_ISLNK(info.st_mode):
            raise UserError(f"--out {path}: is a symbolic link; give the file itself or a new "
                            "file name (links are not followed or replaced)")
        if not stat.S_ISREG(info.st_mode):
            raise UserError(f"--out {path}: is {inputs.file_kind(info.st_mode)}; allowed a regular "
                            "file or a new file name")
        for source in _input_paths(args) if args is not None else []:
            try:
                same = os.path.samefile(source, path)
            except OSError:
                same = False
            if same:
                raise UserError(f"--out {path}: is the input file {source}; give another file "
                                "name")
        if args is not None and not getattr(args, "force", False):
            raise UserError(f"--out {path}: file exists; add --force to replace it")
    if not os.access(directory, os.W_OK):
        raise UserError(f"--out {path}: directory {directory} is not writable")


def _load_all(paths: Sequence[str]) -> list[scenario.Scenario]:
    loaded = [scenario.load(p) for p in paths]  # validate every file before running anything
    names = [s.name for s in loaded]
    if len(set(names)) < len(names):
        dup = next(n for n in names if names.count(n) > 1)
        files = ", ".join(p for p, s in zip(paths, loaded) if s.name == dup)
        raise UserError(f"{files}: field 'name': value {dup!r} is used by more than one file; "
                        "allowed a different name in each file")
    return loaded


def _model():
    from simulator.model import Model  # imported late: validation errors need no PySD import
    return Model()


def _recalibration_inputs(args):
    """(actuals, enacted scenario) of ``--recalibrate-with``, validated before anything runs;
    None without it (then ``--enacted``, ``--seed`` and ``--starts`` are refused)."""
    if args.recalibrate_with is None:
        given = [f"--{k}" for k in ("enacted", "seed", "starts") if getattr(args, k) is not None]
        if given:
            raise UserError(f"{', '.join(given)}: allowed only with --recalibrate-with FILE")
        return None
    from simulator.analysis import hindcast
    from simulator.plan import actuals
    if args.starts is not None:
        _positive("starts", args.starts, 1)
    observed = actuals.load(args.recalibrate_with)
    enacted, = _load_all([args.enacted or str(hindcast.DEFAULT_SCENARIO)])
    return observed, enacted


def _scenario_results(scen, args, recal) -> pd.DataFrame:
    """Tidy results of ``scen``: with the constants of models/calibration.yaml, or (``recal``
    from :func:`_recalibration_inputs`) with those fitted to the project's data plus the actuals,
    under the scenario name ``NAME-recalibrated``; the fit is summarised on standard error."""
    if recal is None:
        return _model().run(scen)
    from simulator.analysis import hindcast
    observed, enacted = recal
    rec = hindcast.recalibrate(observed, enacted, seed=0 if args.seed is None else args.seed,
                               starts=args.starts or hindcast.DEFAULT_STARTS)
    _say(rec.summary())
    results = _model().run(scen, params=rec.parameters)
    results["scenario"] = f"{scen.name}-recalibrated"
    return results


def cmd_run(args) -> int:
    scen, = _load_all([args.scenario])
    recal = _recalibration_inputs(args)
    out = Path(args.out)
    _check_output(out, args)
    results = _scenario_results(scen, args, recal)
    _check_output(out, args)
    write_atomic(out, inputs.to_csv(results))
    name = results["scenario"].iloc[0]
    print(f"wrote {len(results)} rows ({results['variable'].nunique()} indicators, "
          f"{results['time'].nunique()} years) of scenario {name!r} to {out}")
    return 0


def _emit(text: str, args) -> None:
    """``text`` to ``--out`` (checked again just before writing) or to standard output; a
    ``table`` output's long prose lines wrapped to the table width (:func:`wrap`)."""
    if getattr(args, "format", "table") == "table":
        text = wrap(text)
    if args.out:
        path = Path(args.out)
        _check_output(path, args)
        write_atomic(path, text)
    else:
        try:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:  # e.g. standard output redirected to a full disk
            raise UserError(f"cannot write the output ({exc.strerror or exc})") from None


def cmd_goals(args) -> int:
    from simulator.plan import goals
    scen, = _load_all([args.scenario])
    recal = _recalibration_inputs(args)
    if args.out:
        _check_output(Path(args.out), args)
    card = goals.scorecard(_scenario_results(scen, args, recal))
    if args.format == "csv":
        text = inputs.to_csv(card)
    elif args.format == "json":
        text = json.dumps(json.loads(card.to_json(orient="records", force_ascii=False)),
                          ensure_ascii=False, indent=2)
    else:
        title = " / ".join(t for t in (scen.title_zh, scen.title_en) if t)
        text = f"情景 scenario: {scen.name}" + (f" — {title}" if title else "")
        if recal is not None:
            text += (f"\n重新校准 recalibrated: constants fitted to the project's data and "
                     f"{recal[0].source} (see the line on standard error)")
        text += "\n\n"
        text += scorecard_table(card)
    _emit(text, args)
    return 0


def cmd_compare(args) -> int:
    from simulator.plan import goals
    scens = _load_all(args.scenarios)
    if args.out:
        _check_output(Path(args.out), args)
    card = goals.scorecard(_model().run_many(scens))
    if args.format == "csv":
        text = inputs.to_csv(goals.compare_from_scorecard(card))
    elif args.format == "markdown":
        text = compare_markdown(card)
    else:
        text = compare_table(card)
    _emit(text, args)
    return 0


def _uncertainty_spec(path: str | None):
    from simulator.analysis import uncertainty
    return uncertainty.load_spec(path) if path else uncertainty.load_spec()


def _positive(name: str, value: int, lo: int = 1) -> int:
    if value < lo:
        raise UserError(f"--{name}: value {value} is not allowed; allowed a whole number >= {lo}")
    return value


def _available_memory() -> int | None:
    """Bytes of memory available to new allocations (Linux ``MemAvailable``), if known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _runs(name: str, value: int, runs: int, scenarios: int = 1, lo: int = 1) -> int:
    """``--{name}`` checked: at least ``lo``, and the ``runs`` it asks for (of each of
    ``scenarios``) at most :data:`MAX_RUNS` and within the available memory."""
    _positive(name, value, lo)
    if runs > MAX_RUNS:
        raise UserError(f"--{name}: value {value:,} asks for {runs:,} runs; allowed at most "
                        f"{MAX_RUNS:,} runs in one command (their results alone would need "
                        f"{runs * scenarios * BYTES_PER_RUN / 1e9:,.0f} GB of memory)")
    need, available = runs * scenarios * BYTES_PER_RUN, _available_memory()
    if available is not None and need > available:
        raise UserError(f"--{name}: value {value:,} needs about {need / 1e9:,.1f} GB of memory "
                        f"for {runs:,} runs; this machine has {available / 1e9:,.1f} GB "
                        "available; allowed fewer runs")
    return value


def _seed(text: str) -> int:
    """argparse type of ``--seed``: a whole number from 0 to :data:`MAX_SEED`."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"value {inputs.excerpt(text)} is not allowed; allowed "
                                         f"a whole number from 0 to {MAX_SEED}")
    return value


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block) and exit code 2."""

    def error(self, message: str):
        self.exit(EXIT_USER_ERROR, inputs.one_line(
            f"error: {message} (see {self.prog} --help)") + "\n")


def cmd_uncertainty(args) -> int:
    from simulator.analysis import uncertainty
    scens = _load_all(args.scenarios)
    spec = _uncertainty_spec(args.uncertainty)
    _runs("n", args.n, args.n, scenarios=len(scens))
    if args.out:
        _check_output(Path(args.out), args)
    res = uncertainty.run(scens, n=args.n, seed=args.seed, spec=spec, progress=args.progress,
                          dask=args.dask, conditioned=not args.prior)
    probs = res.probabilities()
    if args.format == "csv":
        text = inputs.to_csv(probs)
    else:
        header = ["情景 scenario", "指标 indicator", "年份", "目标 target", "达成概率 probability",
                  "p05", "p50", "p95", "确定性 deterministic", "单位 unit"]
        rows = []
        for _, r in probs.iterrows():
            dec = 1 if r["kind"] == "cagr" else max(tables.indicator(r["indicator"]).decimals,
                                                    _target_decimals(r["target"]))
            rows.append([r["scenario"], f"{r['name_zh']} {r['name_en']}", str(r["year"]),
                         f"{_SYMBOL[r['comparison']]} {format_number(r['target'], dec)}",
                         f"{r['probability'] * 100:.1f} %",
                         *(format_number(r[c], dec) for c in ("p05", "p50", "p95")),
                         format_against(r["deterministic"], r["target"], dec), r["unit"]])
        text = (format_table(header, rows, right=[False, False, False, True, True, True, True,
                                                  True, True, False], shrink=[1, 0],
                             drop=[8, 5, 7, 9])
                + f"\n{res.n:,} Latin-hypercube draws of {len(spec.varied)} uncertain constants "
                f"({spec.source or spec.name}), seed {args.seed}: {res.summary()}; probability "
                "= share of draws meeting the target; p05/p50/p95 = quantiles of the simulated "
                "value.")
    _emit(text, args)
    return 0


def cmd_sensitivity(args) -> int:
    from simulator.analysis import sensitivity
    scen, = _load_all([args.scenario])
    spec = _uncertainty_spec(args.uncertainty)
    n = args.n if args.n is not None else (512 if args.method == "sobol" else 20)
    if args.out:
        _check_output(Path(args.out), args)
    _positive("top", args.top)
    try:
        chosen = sensitivity.inputs_for(args.inputs, spec)
        k = len(chosen)  # Sobol: n (2k + 2) runs; Morris: n (k + 1)
        _runs("n", n, n * ((2 * k + 2) if args.method == "sobol" else (k + 1)))
        res = sensitivity.analyse(args.method, scen, inputs=chosen, n=n, seed=args.seed,
                                  spec=spec, progress=args.progress)
    except ValueError as exc:
        raise UserError(str(exc).replace("n: ", "--n: ", 1).replace("inputs: ", "--inputs: ", 1)) \
            from None
    if args.format == "csv":
        text = inputs.to_csv(res.table)
    else:
        cols = (["S1", "S1_conf", "ST", "ST_conf"] if res.method == "sobol"
                else ["mu_star", "mu_star_conf", "sigma"])
        header = ["目标 target", "排名 rank", "输入 input", "类型 kind", *cols]
        rows = [[r["target"], str(r["rank"]), r["input"], r["kind"],
                 *(f"{r[c]:.4g}" for c in cols)] for _, r in res.top(args.top).iterrows()]
        text = (format_table(header, rows, right=[False, True, False, False] + [True] * len(cols),
                             shrink=[0, 2], drop=[3] + [5, 7][:len(cols) // 2])
                + f"\n{res.method} analysis of {len(res.inputs)} inputs, {res.runs:,} runs, seed "
                f"{args.seed}; top {args.top} inputs of each target"
                + (" by total index ST (S1 first-order; _conf = 95 % confidence half-width)."
                   if res.method == "sobol" else
                   " by mu* (mean |elementary effect| in the target's unit; _conf = 95 % "
                   "confidence half-width)."))
    _emit(text, args)
    return 0


def _probability_spec(args):
    """``--probability`` checked (strictly between 0 and 1), and the uncertainty specification
    it needs (None without ``--probability``)."""
    if args.probability is not None and not 0 < args.probability < 1:
        raise UserError(f"--probability: value {args.probability} is not allowed; allowed a "
                        "number between 0 and 1 (exclusive)")
    return _uncertainty_spec(args.uncertainty) if args.probability is not None else None


def cmd_solve(args) -> int:
    from simulator.analysis import solver
    scen, = _load_all([args.scenario])
    spec = _probability_spec(args)
    try:
        chosen = solver.select_targets(args.targets)
    except ValueError as exc:
        raise UserError(f"--targets: {exc}") from None
    _runs("n", args.n, args.n, lo=10)
    if args.out:
        _check_output(Path(args.out), args)
    if args.no_central and args.probability is None:
        raise UserError("--no-central: only with --probability (without it the answer is the "
                        "central run's)")
    res = solver.solve(scen, chosen, probability=args.probability, spec=spec, n=args.n,
                       seed=args.seed, progress=args.progress, floors=args.floors,
                       central=not args.no_central)
    text = solve_report(res)
    if args.format == "json":
        text = json.dumps(res.to_dict(), ensure_ascii=False, indent=2)
    _emit(text, args)
    return 0


def _milestone_rows(res) -> list[list[str]]:
    """The draft 2030 target table: two lines per indicator (Chinese, then English name)."""
    import pandas as pd
    rows = []
    for _, r in res.table.iterrows():
        dec = tables.indicator(r["indicator"]).decimals
        dec = dec + 1 if r["unit"] == "%" or r["indicator"] == "innovation_index" else dec
        base = format_number(r["base_value"], dec) + (" †" if r["base_source"] == "actual" else "")
        if r["goal_comparison"]:
            end = f"{_SYMBOL[r['goal_comparison']]} {format_number(r['goal_2035'], dec)}"
        else:
            end = f"({format_number(r['path_2035'], dec)})"
        growth = r["required_growth_pct_per_year"]
        rows.append([r["name_zh"], r["unit"], base, format_number(r["milestone_2030"], dec), end,
                     "—" if pd.isna(growth) else f"{growth:+.1f}"])
        rows.append(["  " + r["name_en"], "", "", "", "", ""])
    return rows


def _reachable_goals_example(reach: pd.DataFrame) -> str:
    """Goals a path could meet: those met at the maxima as they are, the others at a threshold
    of 90 % of what the maxima reach (rounded down to two significant digits)."""
    parts = []
    for r in reach.itertuples():
        if r.met or not math.isfinite(r.max_value) or r.max_value <= 0:
            parts.append(r.key if r.met else "")
            continue
        value = 0.9 * r.max_value
        step = 10.0 ** (math.floor(math.log10(value)) - 1)
        parts.append(f"{r.key}={math.floor(value / step) * step:g}")
    return " ".join(p for p in parts if p)


def milestones_text(res) -> str:
    """A :class:`simulator.analysis.milestones.Milestones` as terminal text (at most 100 columns)."""
    scen = res.scenario
    lines = [("✓ " if res.feasible else "✗ ") + res.message]
    if not res.feasible:
        lines.append("No milestones: an all-maximum path is not a plan. Plan for the reachable "
                     f"goals, or a lower threshold, with --goals (e.g. --goals "
                     f"{_reachable_goals_example(res.reach)}).")
        return "\n".join(lines) + "\n"
    mode = (f"with probability ≥ {res.probability:g} over {res.n} draws (seed {res.seed})"
            if res.probability is not None else "in the central run")
    lines += ["", f"十五五 2030 目标测算 draft 2030 targets — scenario {scen.name!r} "
              "(2021–2025 as enacted),", f"2035 goals {mode}:", ""]
    header = ["指标 indicator", "单位 unit", "2025", "2030 里程碑", "2035 目标", "增速 %/年"]
    lines.append(format_table(header, _milestone_rows(res),
                              right=[False, False, True, True, True, True], shrink=[0]))
    actual = res.table[res.table["base_source"] == "actual"]
    notes = ["2030 里程碑 milestone: the path's central run in 2030. 2035: the goal (≥ …), or "
             "(the path's value)",
             "where the indicator has no 2035 goal. 增速: required average growth from the "
             "2025 value to 2030."]
    if len(actual):
        years = sorted({f"{y:g}" for y in actual["base_year"]})
        notes.append(f"† 实际 actual, latest level ≤ 2025 in {res.observed} (year "
                     f"{', '.join(years)}; growth counted from that year); others simulated.")
    lines += notes
    lines += ["", "杠杆路径 lever path: changes from the scenario (2021–2025 as enacted;",
              "lower bounds " + ("the scenario's own 2026–2035 levels):" if res.floors else
                                 "the 2020 levels, --no-floors):"), ""]
    extra = sum(res.cost_by_period.values()) - sum(res.scenario_cost_by_period.values())
    shown = res.levers[res.levers["extra_cost_per_year_wan_yuan"]
                       >= 0.01 * max(extra / len(res.cost_by_period), 1e-9)]
    rows = []
    for _, r in shown.iterrows():
        rows.append([f"{r['name_zh']} ({r['unit']})", r["period"], f"{r['scenario_value']:.4g}",
                     f"{r['path_value']:.4g}", f"{r['extra_cost_per_year_wan_yuan']:+,.0f}"])
        rows.append(["  " + r["name_en"], "", "", "", ""])
    if rows:
        lines.append(format_table(["杠杆 lever (单位 unit)", "时期 period", "情景 scen.",
                                   "路径 path", "万元/年"], rows,
                                  right=[False, False, True, True, True], shrink=[0]))
    else:
        lines.append("无 none: the scenario's own levels already meet the goals.")
    rest = res.levers.drop(shown.index)
    if len(rest):
        lines.append(f"… and {len(rest)} smaller changes (together "
                     f"{rest['extra_cost_per_year_wan_yuan'].sum():+,.0f} 万元/年 over the "
                     "periods; all in --format csv or json).")
    lines.append("")
    for p in res.cost_by_period:
        lines.append(f"成本 cost {p}: {res.cost_by_period[p]:,.0f} 万元/年 above the 2020 levels "
                     f"(the scenario as given: {res.scenario_cost_by_period[p]:,.0f})")
    lines.append("(models/lever_costs.csv; 万元/年 column: extra cost a year over the scenario)")
    return "\n".join(lines) + "\n"


def cmd_milestones(args) -> int:
    from simulator.analysis import milestones
    scen, = _load_all([args.scenario])
    spec = _probability_spec(args)
    try:
        goals = milestones.select_goals(args.goals)
    except ValueError as exc:
        raise UserError(f"--goals: {exc}") from None
    _runs("n", args.n, args.n, lo=10)
    observed = None
    if args.observed:
        from simulator.plan import actuals
        observed = actuals.load(args.observed)  # ActualsError: an InputError, one line, exit 2
    if args.out:
        _check_output(Path(args.out), args)
    res = milestones.milestones(scen, goals, probability=args.probability, spec=spec, n=args.n,
                                seed=args.seed, floors=not args.no_floors, observed=observed,
                                progress=args.progress)
    if args.format == "csv":
        text = inputs.to_csv(milestones.to_frame(res))
    elif args.format == "json":
        text = json.dumps(res.to_dict(), ensure_ascii=False, indent=2)
    else:
        text = milestones_text(res)
    _emit(text, args)
    return 0


def cmd_calibrate(args) -> int:
    from simulator.analysis import calibration
    _positive("starts", args.starts, 1)
    out = Path(args.out) if args.out else calibration.CALIBRATION_FILE
    committed = None
    if args.check:  # refit on this machine's backend: results agree to a tolerance on either
        if not out.exists():
            raise UserError(f"--out {out}: no such file to check")
        try:
            committed = calibration.read(out)
        except calibration.CalibrationError as exc:
            raise UserError(str(exc)) from None
    else:
        _check_output(out)
    try:
        result = calibration.calibrate(seed=args.seed, starts=args.starts, progress=args.progress)
    except calibration.CalibrationError as exc:
        raise UserError(str(exc)) from None
    text = calibration.to_yaml(result)
    print(wrap(calibration.report(result)), end="")
    if args.check:
        import yaml
        found = calibration.differences(committed, yaml.safe_load(text))
        if found:
            shown = 40
            print("\n".join(found[:shown]), file=sys.stderr)
            more = f" ({len(found) - shown} more)" if len(found) > shown else ""
            print(f"{out}: differs from a fresh calibration with seed {args.seed} in "
                  f"{len(found)} field(s){more}", file=sys.stderr)
            return 1
        print(f"{out}: reproduced (every result to {calibration.RESULT_RTOL:g} relative beyond "
              "the digits written; the optimiser's diagnostics, backend, library versions and "
              "CPU are provenance, not compared)")
        return 0
    write_atomic(out, text)
    print(f"wrote {out}")
    return 0


def cmd_validate(args) -> int:
    from simulator.analysis import validation
    _runs("n", args.n, args.n)
    if args.out:
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise UserError(f"--out {out}: is a file; give a directory for the report")
        if not out.parent.is_dir():
            raise UserError(f"--out {out}: directory {out.parent} does not exist")
    try:
        return validation.validate_cli(args)
    except OSError as exc:  # the report's files are each written whole, or not at all
        raise UserError(f"--out: {exc}") from None


def cmd_hindcast(args) -> int:
    from simulator.analysis import hindcast
    from simulator.plan import actuals
    cutoff = hindcast.check_cutoff(args.cutoff)
    _positive("starts", args.starts, 1)
    observed = actuals.load(args.observed)
    scen, = _load_all([args.scenario or str(hindcast.DEFAULT_SCENARIO)])
    hindcast.observations_after(observed, cutoff)  # refused before anything is run
    if args.out:
        _check_output(Path(args.out), args)
    result = hindcast.hindcast(observed, cutoff, scen, seed=args.seed, starts=args.starts)
    if args.format == "csv":
        text = result.to_csv()
    elif args.format == "json":
        text = result.to_json()
    else:
        text = (f"回测 hindcast: calibrated with data ≤ {cutoff}, scenario {scen.name!r}, "
                f"actuals {observed.source}\n"
                f"fitted: {', '.join(f'{k} = {v:g}' for k, v in result.parameters.items()) or 'none'}"
                f" ({len(result.fixed)} constants not identified by the data ≤ {cutoff} keep "
                "their documented values)\n\n")
        header, rows = hindcast.point_rows(result)
        text += format_table(header, rows, right=[False, True, True, False] + [True] * 6
                             + [False], shrink=[0, 10], drop=[10]) + "\n\n"
        header, rows = hindcast.score_rows(result)
        text += format_table(header, rows, right=[False] + [True] * 9, shrink=[0]) + "\n"
        text += "".join(f"\nnote: {n}" for n in result.notes)
    _emit(text, args)
    return 0


def cmd_loops(args) -> int:
    from simulator.analysis import loops
    defaults = (Path(args.scenario).resolve() == Path(LOOPS_SCENARIO)
                and Path(args.loops).resolve() == Path(LOOPS_FILE))
    if args.write_readme and (not defaults or args.out):
        raise UserError("--write-readme: allowed only with the default --scenario and --loops "
                        "and without --out (the README shows the plan scenario and "
                        "models/loops.csv)")
    scen, = _load_all([args.scenario])
    table = loops.load(args.loops)  # validated before anything runs
    readme = REPO / "README.md"
    if args.write_readme:
        text = inputs.read_text(readme, what="README")
        try:
            loops.readme_block(text, str(readme))
        except ValueError as exc:
            raise UserError(str(exc)) from None
    if args.out:
        _check_output(Path(args.out), args)
    ko = loops.knockout(scen, table)
    if args.write_readme:
        write_atomic(readme, loops.replace_block(text, loops.markdown(ko), str(readme)))
        print(f"wrote the loop table of {readme} (scenario {scen.name!r}, {len(table)} loops)")
        return 0
    if args.format == "csv":
        frame = ko.table.merge(ko.summary[["loop", "driver"]], on="loop")
        text = inputs.to_csv(frame)
    elif args.format == "markdown":
        text = loops.markdown(ko)
    else:
        years = " and ".join(str(y) for y in ko.years)
        text = (f"回路切断 loop knock-out: scenario {scen.name!r}, loops {args.loops}; effect "
                f"of cutting each loop in {years}: % of the full model's value (pp for a "
                f"growth rate); a driver moves some indicator by {ko.threshold:g} % or more\n\n")
        header, rows = loops.summary_rows(ko)
        text += format_table(header, rows, right=[False] * 5, shrink=[0], fold=[4, 2],
                             drop=[4]) + "\n\n"
        header, rows = loops.detail_rows(ko)
        text += format_table(header, rows, right=[False, False] + [True] * (len(header) - 2),
                             shrink=[1, 0])
    _emit(text, args)
    return 0


def cmd_sketch(args) -> int:
    from simulator.sd import sketch
    model = Path(args.model)
    try:
        if args.check:
            if sketch.check(model):
                print(f"{model}: the sketch is the one the model's structure draws")
                return 0
            _say(f"{model}: the sketch differs from the one the model's structure draws; "
                 "run python -m simulator sketch")
            return 1
        changed = sketch.write(model)
    except sketch.SketchError as exc:
        raise UserError(str(exc)) from None
    print(f"{'wrote' if changed else 'unchanged:'} the sketch of {model}")
    return 0


def _command_use(args) -> tuple[int, int]:
    """(engine calls, runs per call) a command makes, estimated from its arguments, so that the
    backend ``auto`` can weigh XLA's one-off compile against what it would save on this machine
    (:mod:`simulator.sd.backends`). An estimate decides only speed, never a result."""
    from simulator.analysis.uncertainty import CHUNK

    def chunked(calls: int, runs: int) -> tuple[int, int]:
        runs = max(runs, 1)
        return calls * math.ceil(runs / CHUNK), min(runs, CHUNK)
    if args.command == "uncertainty":
        return chunked(len(args.scenarios), args.n)
    if args.command == "sensitivity":  # Sobol: n (D + 2) runs, Morris n (D + 1), D inputs
        inputs = (len(args.inputs.split(",")) if args.inputs not in ("all", "levers", "constants")
                  else 80 if args.inputs == "all" else 40)
        n = args.n if args.n is not None else (512 if args.method == "sobol" else 20)
        return chunked(1, max(n, 1) * (inputs + 2))
    if args.command == "solve":  # a screen, then ~50 SLSQP steps of ~40 lanes (x n draws)
        return 50, 40 * (max(args.n, 1) if args.probability is not None else 1)
    if args.command == "milestones":  # the same with two periods: ~60 steps of ~40 lanes
        return 60, 40 * (max(args.n, 1) if args.probability is not None else 1)
    if args.command in ("calibrate", "hindcast"):  # ~15 evaluations of ~4 lanes per start
        return 15 * max(args.starts, 1), 4
    if args.command == "loops":  # one call: the full model, each loop cut, all cut
        return 1, 8
    return 1, max(args.n, 1)  # validate: the random-policy ensemble dominates


def _backend_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=["auto", "numpy", "xla"], default=None,
                   help="how the engine computes many runs at once: numpy, xla (the same code "
                   "compiled by JAX, seconds to compile once per process) or auto (the one "
                   "measured faster on this machine for this command, measured once and "
                   "cached); default $GUANGYUAN_ENGINE_BACKEND, else auto")


def _recalibrate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--recalibrate-with", metavar="FILE",
                   help="CSV file of actuals: run with the constants fitted to the project's "
                   "calibration data plus these actuals up to their latest year, instead of "
                   "models/calibration.yaml (the scenario is named NAME-recalibrated; "
                   "docs/hindcast.md)")
    p.add_argument("--enacted", metavar="SCENARIO", help="with --recalibrate-with: the scenario "
                   "the actuals happened under, whose run they are compared with (default "
                   "scenarios/plan.yaml, the plan as enacted)")
    p.add_argument("--seed", type=_seed, default=None, help="with --recalibrate-with: seed of "
                   "the calibration's starts (default 0)")
    p.add_argument("--starts", type=int, default=None, help="with --recalibrate-with: starting "
                   "points of the calibration (default 16)")


def _display_options(p: argparse.ArgumentParser, progress: bool = False) -> None:
    """``--wide`` (and ``--progress/--no-progress``) of a command that prints a table."""
    p.add_argument("--wide", action="store_true", help=f"print every column, however wide "
                   f"(default: tables on the terminal fit in {TABLE_WIDTH} columns, long names "
                   "shortened with …, the least needed columns left out with a note)")
    if progress:
        p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="progress bar on standard error (default: on when standard error "
                       "is a terminal)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m simulator",
        description="广元市“十四五”科技创新和知识产权规划 system-dynamics simulator.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run a scenario and write tidy results as CSV")
    p.add_argument("scenario", help="scenario YAML file, e.g. scenarios/plan.yaml")
    p.add_argument("--out", required=True, help="CSV file to write "
                   "(columns scenario,time,variable,value,unit)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    _recalibrate_options(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("goals", help="print the target scorecard of a scenario")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--out", help="write to this file instead of standard output")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    _recalibrate_options(p)
    _display_options(p)
    p.set_defaults(func=cmd_goals)
    p = sub.add_parser("compare", help="scorecards of several scenarios side by side")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario YAML files")
    p.add_argument("--format", choices=["table", "csv", "markdown"], default="table")
    p.add_argument("--out", help="write to this file instead of standard output")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    _display_options(p)
    p.set_defaults(func=cmd_compare)
    p = sub.add_parser("uncertainty", help="probability of meeting each target under parameter "
                       "uncertainty (Latin hypercube)")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario YAML file(s)")
    p.add_argument("--n", type=int, default=1000, help="number of draws (default 1000; at most "
                   f"{MAX_RUNS:,}, and what memory allows)")
    p.add_argument("--seed", type=_seed, default=None, help=f"seed (a whole number from 0 to "
                   f"{MAX_SEED}; default random)")
    p.add_argument("--uncertainty", help="uncertainty YAML file (default models/uncertainty.yaml)")
    p.add_argument("--prior", action="store_true", help="draw from the prior distributions "
                   "(default: keep only draws consistent with the 2015-2020 observations)")
    p.add_argument("--format", choices=["table", "csv"], default="table")
    p.add_argument("--out", help="write to this file instead of standard output")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    _display_options(p, progress=True)
    p.add_argument("--dask", nargs="?", const=True, default=None, metavar="SCHEDULER",
                   help="evaluate chunks on Dask: a LocalCluster, or the scheduler at this address")
    _backend_option(p)
    p.set_defaults(func=cmd_uncertainty)
    p = sub.add_parser("sensitivity", help="rank levers and uncertain constants by their effect "
                       "on each target (SALib Sobol or Morris)")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--method", choices=["sobol", "morris"], default="sobol")
    p.add_argument("--n", type=int, default=None, help="Sobol base samples (a power of 2, "
                   "default 512) or Morris trajectories (default 20)")
    p.add_argument("--seed", type=_seed, default=None, help=f"seed (a whole number from 0 to "
                   f"{MAX_SEED}; default random)")
    p.add_argument("--inputs", default="all", help="levers, constants, all (default), or a "
                   "comma-separated list of lever ids and constant names")
    p.add_argument("--top", type=int, default=5, help="inputs shown per target (default 5)")
    p.add_argument("--uncertainty", help="uncertainty YAML file (ranges of the constants)")
    p.add_argument("--format", choices=["table", "csv"], default="table")
    p.add_argument("--out", help="write to this file instead of standard output")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    _display_options(p, progress=True)
    _backend_option(p)
    p.set_defaults(func=cmd_sensitivity)
    p = sub.add_parser("solve", help="lowest-cost lever settings that reach chosen targets")
    p.add_argument("scenario", help="scenario YAML file (its assumptions, and levers after the "
                   "last target year, are kept)")
    p.add_argument("--targets", nargs="+", default=["2025"], metavar="TARGET",
                   help="2025, 2035, target keys (tech_smes@2025) or indicator ids "
                   "(default 2025)")
    p.add_argument("--probability", type=float, default=None,
                   help="reach each target with at least this probability under uncertainty")
    p.add_argument("--n", type=int, default=100, help="draws for --probability (default 100)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the draws and the search "
                   f"(a whole number from 0 to {MAX_SEED}; default 0)")
    p.add_argument("--uncertainty", help="uncertainty YAML file (with --probability)")
    p.add_argument("--no-central", action="store_true", help="with --probability: do not also "
                   "require the targets in the central run (the scorecard's); the answer may "
                   "then cost less than the deterministic one and the scorecard miss a target")
    p.add_argument("--floors", action="store_true", help="keep the scenario's enacted measures "
                   "as floors: proposals never cut a lever below the scenario's level")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--out", help="write to this file instead of standard output")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    _display_options(p, progress=True)
    _backend_option(p)
    p.set_defaults(func=cmd_solve)
    p = sub.add_parser("milestones", help="十五五: the 2030 milestones on the lowest-cost lever "
                       "path 2026-2035 that meets the 2035 goals (2021-2025 as the scenario sets)")
    p.add_argument("scenario", help="scenario YAML file (its 2021-2025 levers are kept; its "
                   "2026-2035 levers are floors unless --no-floors)")
    p.add_argument("--goals", nargs="+", default=None, metavar="GOAL",
                   help="2035 goals: rd_intensity@2035, innovation_index@2035, each optionally "
                   "=VALUE for another threshold (default both, as in models/targets.csv)")
    p.add_argument("--probability", type=float, default=None,
                   help="meet each goal with at least this probability under uncertainty "
                   "(default: in the central run)")
    p.add_argument("--observed", metavar="FILE", help="CSV file of actuals (indicator,year,"
                   "value): the latest level <= 2025 replaces the simulated 2025 value")
    p.add_argument("--no-floors", action="store_true", help="let 2026-2035 levers fall below "
                   "the scenario's levels (down to the 2020 levels)")
    p.add_argument("--n", type=int, default=100, help="draws for --probability (default 100)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the draws and the search "
                   f"(a whole number from 0 to {MAX_SEED}; default 0)")
    p.add_argument("--uncertainty", help="uncertainty YAML file (with --probability)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--out", help="write to this file instead of standard output")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    _display_options(p, progress=True)
    _backend_option(p)
    p.set_defaults(func=cmd_milestones)
    p = sub.add_parser("calibrate", help="fit the model's constants to the 2015-2020 data and "
                       "write the parameter file scenarios use")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the Latin hypercube of starts "
                   f"(a whole number from 0 to {MAX_SEED}; default 0)")
    p.add_argument("--starts", type=int, default=16, help="starting points (default 16)")
    p.add_argument("--out", help="parameter file (default the project's models/calibration.yaml)")
    p.add_argument("--check", action="store_true", help="recalibrate and compare with --out "
                   "instead of writing it: every result to a stated tolerance, the optimiser's "
                   "diagnostics and the machine not; exit 1 if they differ")
    _display_options(p, progress=True)
    _backend_option(p)
    p.set_defaults(func=cmd_calibrate)
    p = sub.add_parser("validate", help="structure and behaviour tests (units, extreme conditions, "
                       "integration error, fit to data, random policies); writes a report and "
                       "exits 1 if a test fails")
    p.add_argument("--out", help="report directory (default the project's docs/validation)")
    p.add_argument("--n", type=int, default=10_000, help="random policy settings (default 10000)")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the random settings (a whole "
                   f"number from 0 to {MAX_SEED}; default 0)")
    _display_options(p, progress=True)
    p.add_argument("--observed", help="CSV file of actuals: the report gains a hindcast section "
                   "(python -m simulator hindcast)")
    p.add_argument("--cutoff", default="2020", help="cutoff year of that hindcast (default 2020)")
    _backend_option(p)
    p.set_defaults(func=cmd_validate)
    p = sub.add_parser("hindcast", help="out-of-sample test: calibrate with data up to a cutoff "
                       "year, run a scenario and score the actuals after it against two naive "
                       "forecasts")
    p.add_argument("--observed", required=True, help="CSV file of actuals (indicator,year,value"
                   "[,kind,source,note]; e.g. data/examples/actuals_2015_2020.csv)")
    p.add_argument("--cutoff", required=True, help="last year of the data used to calibrate "
                   "(a whole year from 2015 to 2034)")
    p.add_argument("--scenario", help="scenario YAML file (default scenarios/plan.yaml, the plan "
                   "as enacted)")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument("--out", help="write to this file instead of standard output")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--seed", type=_seed, default=0, help="seed of the calibration's starts "
                   "(default 0)")
    p.add_argument("--starts", type=int, default=16, help="starting points of the calibration "
                   "(default 16, as calibrate)")
    _display_options(p)
    _backend_option(p)
    p.set_defaults(func=cmd_hindcast)
    p = sub.add_parser("loops", help="loop knock-out: the effect on every indicator of cutting "
                       "each named feedback loop (models/loops.csv), and which are drivers")
    p.add_argument("--scenario", default=LOOPS_SCENARIO, help="scenario YAML file (default "
                   "scenarios/plan.yaml)")
    p.add_argument("--loops", default=LOOPS_FILE, help="loop table (default models/loops.csv)")
    p.add_argument("--format", choices=["table", "csv", "markdown"], default="table",
                   help="table (default), csv (every loop, indicator and year) or markdown "
                   "(the README's loop table)")
    p.add_argument("--markdown", dest="format", action="store_const", const="markdown",
                   help="the same as --format markdown")
    p.add_argument("--csv", dest="format", action="store_const", const="csv",
                   help="the same as --format csv")
    p.add_argument("--write-readme", action="store_true", help="replace the loop table of "
                   "README.md (between <!-- loops:start --> and <!-- loops:end -->) with the "
                   "markdown output")
    p.add_argument("--out", help="write to this file instead of standard output")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    _display_options(p)
    _backend_option(p)
    p.set_defaults(func=cmd_loops)
    p = sub.add_parser("sketch", help="draw the model's stock-and-flow diagram (one view per "
                       "group) into the sketch section of the .mdl, in place; equations untouched")
    p.add_argument("--model", default=str(tables.MODEL_FILE), help="model file (default "
                   "models/guangyuan_innovation.mdl)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file's "
                   "sketch differs from the one the program draws")
    p.set_defaults(func=cmd_sketch)
    return parser


def _set_backend(args) -> None:
    """The engine backend for this command: --backend, else $GUANGYUAN_ENGINE_BACKEND, else
    ``auto`` for the command's estimated use (:func:`_command_use`)."""
    from simulator.sd import engine
    if not hasattr(args, "backend"):
        return
    env = os.environ.get("GUANGYUAN_ENGINE_BACKEND")
    if env is not None and env not in engine.BACKENDS:
        raise UserError(f"$GUANGYUAN_ENGINE_BACKEND={env!r}: must be one of "
                        f"{', '.join(engine.BACKENDS)}")
    engine.set_default_backend(args.backend or env or "auto", _command_use(args))


def _plain_output_errors() -> None:
    """Standard output and error never fail on a character their encoding lacks (e.g.
    ``PYTHONIOENCODING=ascii``): it is written as a backslash escape instead."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError, OSError):  # not a text stream that can change
            pass


def _say(message: str) -> None:
    """``message`` on standard error, on a line of its own (progress bars closed first)."""
    progress = sys.modules.get("tqdm")
    for bar in list(getattr(getattr(progress, "tqdm", None), "_instances", ())):
        bar.close()  # an interrupted bar: cleared (leave=False) so the message starts the line
    try:
        print(inputs.one_line(message), file=sys.stderr, flush=True)
    except (OSError, ValueError):  # standard error closed or broken: nothing more to do
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (0, 1 for a failure found, 2 for a refused input
    or failed write, 130 if interrupted)."""
    _plain_output_errors()
    try:
        args = build_parser().parse_args(argv)
        from simulator.sd import engine  # (after parsing: ``--help`` needs no numpy nor pandas)
        previous = engine._process_backend, engine._process_use, termtext._table_width
        if getattr(args, "progress", False) is None:
            args.progress = sys.stderr.isatty()
        try:
            _set_backend(args)
            # a table written to --out keeps every column: a file is not a terminal
            to_file = getattr(args, "format", None) == "table" and getattr(args, "out", None)
            termtext._table_width = (None if getattr(args, "wide", False) or to_file
                                     else TABLE_WIDTH)
            return args.func(args)
        finally:  # main() called in a longer process (tests, a notebook) leaves it as it was
            engine.set_default_backend(*previous[:2])
            termtext._table_width = previous[2]
    except (inputs.InputError, UserError) as exc:
        _say(f"error: {exc}")
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        pass  # said below, outside the handler
    except BrokenPipeError:  # the reader of standard output went away (``| head``)
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    _say("interrupted")  # only Ctrl-C gets here
    return EXIT_INTERRUPTED
