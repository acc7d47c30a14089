"""Custom Rasa NLU components (Rasa 3.6 only). The pure-Python rules they share with the
action server and the web app live in the top-level `cn_text` package. Import nothing here."""
