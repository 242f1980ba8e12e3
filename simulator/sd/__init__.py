"""A generic system-dynamics toolkit for Vensim models through PySD, with nothing of Guangyuan in
it: PySD's abstract model, names and translation (:mod:`.translate`), the engine that generates
array code from the abstract model and runs N runs at once (:mod:`.engine`, with the time loop in
:mod:`.schedule`), its compiled XLA backend (:mod:`.xla`) and the measured choice between the two
(:mod:`.backends`), and the dimensional check of a model's equations (:mod:`.units`).
Imports only :mod:`simulator.base`.
"""
