"""Chinese text helpers shared by both Python environments (Rasa's 3.10 and the 3.11 one).

Standard library only, and nothing of ours: the Rasa NLU components, the action server, the
web app and the tests import the same code, so a query is understood the same way everywhere.
"""
