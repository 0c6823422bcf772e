"""MovieLens read straight from a zip laid out like the official one: ratings, titles said as people say them, IMDb
links; defects give warnings or clear errors."""

import zipfile

import numpy as np
import pytest

from llmkb.data.io import DataWarning
from llmkb.data.movielens import ZIP, load_movielens, movielens_fingerprint, split_movielens_title
from llmkb.errors import DataError

RATINGS = "userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n1,2,3.0,964982703\r\n2,1,5.0,964982703\r\n"
MOVIES = ('movieId,title,genres\r\n1,"Matrix, The (1999)",Action\r\n2,Seven (a.k.a. Se7en) (1995),Thriller\r\n'
          '3,"Amelie (Fabuleux destin d\'Amélie Poulain, Le) (2001)",Comedy\r\n')
LINKS = "movieId,imdbId,tmdbId\r\n1,0133093,603\r\n2,0114369,807\r\n3,0211915,194\r\n"


def write_zip(root, **members):
    path = root / ZIP
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in {"ratings": RATINGS, "movies": MOVIES, "links": LINKS, **members}.items():
            archive.writestr(f"ml-latest-small/{name}.csv", text)
    return path


@pytest.mark.parametrize("title, said", [
    ("Toy Story (1995)", ("Toy Story", 1995)),
    ("American President, The (1995)", ("The American President", 1995)),
    ("Amelie (Fabuleux destin d'Amélie Poulain, Le) (2001)", ("Amelie", 2001)),
    ("Seven (a.k.a. Se7en) (1995)", ("Seven", 1995)),
    ("Babylon 5", ("Babylon 5", None)),
])
def test_titles_are_read_as_people_say_them(title, said):
    assert split_movielens_title(title) == said


def test_the_zip_is_read_into_ratings_titles_and_imdb_links(tmp_path):
    write_zip(tmp_path)
    movielens = load_movielens(tmp_path)
    assert movielens.users.tolist() == [1, 1, 2] and movielens.movies.tolist() == [1, 2, 1]
    assert np.allclose(movielens.ratings, [4.0, 3.0, 5.0])
    assert movielens.titles[1] == ("The Matrix", 1999) and movielens.imdb["0114369"] == 2
    assert movielens.sha256 == movielens_fingerprint(tmp_path) and len(movielens.sha256) == 64


def test_a_malformed_rating_is_skipped_with_a_warning(tmp_path):
    write_zip(tmp_path, ratings=RATINGS + "3,x,4.0,1\r\n")
    with pytest.warns(DataWarning, match="ratings.csv: skipped"):
        assert len(load_movielens(tmp_path).ratings) == 3


def test_missing_or_broken_files_say_what_to_do(tmp_path):
    with pytest.raises(DataError, match="llmkb data fetch"):
        load_movielens(tmp_path)
    assert movielens_fingerprint(tmp_path) is None
    write_zip(tmp_path, ratings="user,movie\r\n1,2\r\n")
    with pytest.raises(DataError, match="expected the columns userId,movieId,rating"):
        load_movielens(tmp_path)
    (tmp_path / ZIP).write_bytes(b"not a zip")
    with pytest.raises(DataError, match="not a zip file"):
        load_movielens(tmp_path)
