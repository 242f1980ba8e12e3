"""What the economists run on the model: calibration and history matching, validation,
the hindcast, uncertainty, sensitivity, the solver, milestones, loop knock-out, plausibility,
the budget and the drivers of a target. Each module is one analysis; they use the runner
(:mod:`simulator.model`) and the layers below it, never a face.
"""
