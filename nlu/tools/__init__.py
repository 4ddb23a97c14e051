"""NLU tooling run inside .venv-rasa (`aduan nlu predict|eval` call these modules)."""
