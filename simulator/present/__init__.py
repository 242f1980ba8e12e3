"""Presentation both faces use: the scorecard, comparison and solver answer as terminal text
and Markdown (:mod:`.terminal`) and the parameter tables of ``docs/model.md``
(:mod:`.modeldoc`). Imports the analyses and the layers below, never a face.
"""
