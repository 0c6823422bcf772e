"""A dozen-movie catalogue with one remake pair (two "Halloween"s), written inline for the post-processing tests."""

from llmkb.data.records import CatalogItem

CATALOG = (
    CatalogItem("m1", "Heat", 1995),
    CatalogItem("m2", "Alien", 1979),
    CatalogItem("m3", "The Matrix", 1999),
    CatalogItem("m4", "Halloween", 1978),
    CatalogItem("m5", "Halloween", 2018),
    CatalogItem("m6", "The Godfather", 1972),
    CatalogItem("m7", "Spider-Man", 2002),
    CatalogItem("m8", "Amélie", 2001),
    CatalogItem("m9", "Schindler's List", 1993),
    CatalogItem("m10", "Star Wars: Episode IV - A New Hope", 1977),
    CatalogItem("m11", "Finding Nemo", 2003),
    CatalogItem("m12", "Up", 2009),
)
BY_ID = {item.item_id: item for item in CATALOG}
# mention counts, for the matcher's tie-break between same-title movies given without a year
POPULARITY = {"m1": 40, "m2": 55, "m3": 120, "m4": 30, "m5": 60, "m6": 90, "m7": 70, "m8": 15, "m9": 25, "m10": 80, "m11": 65, "m12": 35}
