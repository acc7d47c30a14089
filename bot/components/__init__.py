"""Custom Rasa NLU components (price_extractor, Rasa 3.6 only) and the pure-Python rules
they use (cn_numbers, shared with the action server). Import nothing here: the 3.11
environment imports cn_numbers without rasa installed."""
