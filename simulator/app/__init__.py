"""The planners' app's helpers (``app.py`` at the top of the repository is the page itself):
words in two languages (:mod:`.i18n`), untrusted text and uploads (:mod:`.untrusted`), the
server hooks (:mod:`.hooks`), a session's scenarios (:mod:`.session`), the link
(:mod:`.links`), scorecards (:mod:`.scorecards`), charts (:mod:`.charts`), exports
(:mod:`.exports`), the analyses' views (:mod:`.analyses`) and monitoring (:mod:`.monitoring`).
Nothing here imports Streamlit, so every function can be tested on its own.
"""
