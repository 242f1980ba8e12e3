"""Building blocks that know nothing of system dynamics or of Guangyuan: reading untrusted
files and text within bounds (:mod:`.inputs`), writing files atomically (:mod:`.outputs`), and
text for a terminal (:mod:`.text`). Imports nothing from the rest of the package.
"""
