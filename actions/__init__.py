"""rasa-sdk actions: read slots and entities, call the domain packages, format replies.

Served by `python -m actions.server` (one process, warmed up before it accepts requests).

The action modules (search, product_qa, needs, faq, fallback, after_sales) hold the rasa_sdk
classes and import only the modules below, never each other. The logic they share has no
rasa_sdk: turn (what is read of the tracker, the Reply that names the answering skill in every
message), state (slots), formatting, listing (finding and showing products), facts (what is
said about products), guidance, policy_answers, context (follow-ups from the slots) and
shopping (the product skills, which hand turns to each other by plain calls).
"""
