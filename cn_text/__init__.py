"""Chinese text helpers shared by both Python environments (Rasa's 3.10 and the 3.11 one).

Standard library only, and nothing of ours: the Rasa NLU components, the action server, the
web app and the tests import the same code, so a query is understood the same way everywhere.

- numbers.py: Chinese and Arabic numerals ("一千五", "1.5万", "2k") read as one number.
- prices.py: price wishes in a message ("三千以内", "两三千", "2k到3k") and their entity form.
- words.py: the word lists price decisions rest on (cues, currency, spec units, model words).
- lexicon.py: catalog words (brands, model lines) the NLU export writes for these rules.
- sanitize.py: shopper text made safe before the NLU sees it.
- vectors.py: the wire format of the E5 message vector sent from Rasa to the action server.
- pii.py: phone, ID, bank card numbers and street addresses found and masked for staff views,
  exports and logs.
- sensitive.py: the shop's sensitive-word list (data/moderation/), found and masked, and
  re-read when the shop edits it.
- ratelimit.py: token buckets per client, and a request's client address behind proxies (the
  chat channels' limits and the web app's).
"""
