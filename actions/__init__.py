"""rasa-sdk actions: read slots and entities, call the domain packages, format replies."""

import os

if os.environ.get("DAOGOU_WARM_UP") == "1":
    from actions.runtime import warm_up

    warm_up()
