"""The NLU data tools: they read the catalog, which bot/ (rasa, jieba and cn_text only) may not.

``botprep`` writes the Rasa project's generated inputs into var/bot/ and trains and tests the
model; ``generate`` expands the catalog into training examples, ``check`` lints the
hand-written ones, ``evaluate`` scores entities as the held-out benchmark reports them.
"""
