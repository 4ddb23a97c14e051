"""NLU inbox, labelling, gated retraining and model promotion for trainers."""
