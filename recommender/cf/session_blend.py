from recommender.cf.ease import EASE


class SessionBlend(EASE):
    name = "best"

    def __init__(self, seed: int = 42) -> None:
        super().__init__()
