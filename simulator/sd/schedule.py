"""The time loop of a run as PySD 3.14 makes it: which steps are taken and which are saved,
and PySD's small number. Shared by the numpy code the engine generates and the XLA program."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SMALL_VENSIM = 1e-6  # PySD's zero for ZIDZ, XIDZ and RAMP


@dataclass(frozen=True)
class Schedule:
    """The steps of a run (:func:`schedule`).

    Attributes
    ----------
    steps : ndarray
        Time of every step that is followed by an Euler update.
    save_at : ndarray of bool, shape (len(steps) + 1,)
        Whether step ``k`` is saved; the last entry is the final time, after the last update.
    last : float
        The final time, as reached by adding TIME STEP.
    times : ndarray
        The saved times, as PySD reports them.
    """

    steps: np.ndarray
    save_at: np.ndarray
    last: float
    times: np.ndarray


def schedule(t0: float, t_final: float, dt: float, saveper: float) -> Schedule:
    """The steps of a run and which of them are saved: PySD 3.14's time loop exactly
    (``Model._integrate`` with ``Time.in_bounds``, ``Time.in_return`` and ``Time.round``).

    Time starts at INITIAL TIME and advances by adding TIME STEP while
    ``t + dt * 1e-5 < FINAL TIME``. A step is saved where its time since INITIAL TIME is within
    ``dt * 1e-5`` of a multiple of SAVEPER (``d % saveper`` or ``-d % saveper`` below it), and
    its time is reported rounded to the decimals of ``dt * 1e-5``. With SAVEPER a multiple of
    TIME STEP that is every SAVEPER; with one that is not (SAVEPER 0.1, TIME STEP 1/128) it is
    every common multiple of the two (every 0.5), as PySD saves."""
    t0, t_final, dt, saveper = float(t0), float(t_final), float(dt), float(saveper)
    prec = dt * 1e-5
    t, steps, save = t0, [], []
    while True:
        d = t - t0
        save.append(d % saveper < prec or -d % saveper < prec)
        if not (t + prec < t_final):
            break
        steps.append(t)
        t = t + dt
    save_at = np.array(save, dtype=bool)
    every = np.array(steps + [t], dtype=float)
    times = np.round(every[save_at], -int(np.log10(prec)))
    return Schedule(np.array(steps, dtype=float), save_at, t, times)
