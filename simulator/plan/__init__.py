"""The plan as data: the metadata tables of levers, assumptions, indicators and targets
(:mod:`.tables`, from ``models/*.csv``), scenarios (:mod:`.scenario`), the scorecard against
Table 1 (:mod:`.goals`), reported actuals (:mod:`.actuals`) and the calibrated parameters every
scenario runs with (:mod:`.calibrated`). Imports :mod:`simulator.sd` and :mod:`simulator.base`.
"""
