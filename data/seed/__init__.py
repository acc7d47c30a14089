"""Hand-written source tables for the seed catalog.

One module per leaf category holds real model lines, their specifications and
prices, and the sentence fragments the generator composes descriptions from.
`taxonomy`, `brands`, `people` and `relations` hold the shared tables.
`data/generate_catalog.py` turns all of it into one deterministic JSON file.
"""

from data.seed import (
    accessories,
    appliances,
    earphones,
    laptops,
    makeup,
    phones,
    shoes,
    skincare,
    snacks,
    sportswear,
    tablets,
    watches,
)

# Generation order; accessories come after the devices they reference.
CATEGORY_MODULES = (
    phones,
    laptops,
    tablets,
    earphones,
    watches,
    accessories,
    shoes,
    sportswear,
    skincare,
    makeup,
    appliances,
    snacks,
)
