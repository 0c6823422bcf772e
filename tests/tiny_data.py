"""A hand-written dozen-movie world laid out like the data directory, for unit tests that need no real data."""

from __future__ import annotations

import json
import pickle
import zipfile
from collections import defaultdict
from pathlib import Path

R = "<http://dbpedia.org/resource/{}>"
O = "<http://dbpedia.org/ontology/{}>"

# movieId, name as in movies_with_mentions.csv (note the double space and the two "Heat"s), mentions, DBpedia name
MOVIES = [
    ("1001", "Toy Story  (1995)", 50, "Toy_Story"), ("1002", "Toy Story 2 (1999)", 30, "Toy_Story_2"),
    ("1003", "The Matrix (1999)", 40, "The_Matrix"), ("1004", "Heat (1995)", 20, "Heat_(1995_film)"),
    ("1005", "Alien (1979)", 25, "Alien_(film)"), ("1006", "Aliens (1986)", 15, "Aliens_(film)"),
    ("1007", "Fargo (1996)", 10, "Fargo_(1996_film)"), ("1008", "Up (2009)", 35, "Up_(2009_film)"),
    ("1009", "Jaws (1975)", 12, "Jaws_(film)"), ("1010", "Heat (1986)", 2, "Heat_(1986_film)"),
    ("1011", "Psycho (1960)", 8, "Psycho_(1960_film)"), ("1012", "Scream (1996)", 9, None),  # Scream: not linked
]
PEOPLE = {"1001": ("John_Lasseter", "Tom_Hanks", "Animation"), "1002": ("John_Lasseter", "Tom_Hanks", "Animation"),
          "1003": ("The_Wachowskis", "Keanu_Reeves", "Science_fiction_film"),
          "1004": ("Michael_Mann", "Al_Pacino", "Crime_film"), "1005": ("Ridley_Scott", "Sigourney_Weaver", "Horror_film"),
          "1006": ("James_Cameron", "Sigourney_Weaver", "Action_film"),
          "1007": ("Joel_Coen", "Frances_McDormand", "Crime_film"), "1008": ("Pete_Docter", "Ed_Asner", "Animation"),
          "1009": ("Steven_Spielberg", "Roy_Scheider", "Thriller_film"),
          "1010": ("Dick_Richards", "Burt_Reynolds", "Action_film"), "1011": ("Alfred_Hitchcock", "Anthony_Perkins", "Horror_film")}


def _message(sender: int, text: str, i: int) -> dict:
    return {"timeOffset": i, "text": text, "senderWorkerId": sender, "messageId": i}


def redial_dialogue(conversation_id: str, exchanges: list[tuple[int, str]], mentions: list[str]) -> dict:
    """Seeker is worker 1, recommender worker 2."""
    names = {m[0]: m[1] for m in MOVIES}
    return {"movieMentions": {m: names[m] for m in mentions},
            "respondentQuestions": {m: {"suggested": 1, "seen": 0, "liked": 1} for m in mentions},
            "initiatorQuestions": {m: {"suggested": 1, "seen": 0, "liked": 1} for m in mentions},
            "messages": [_message(s, t, i) for i, (s, t) in enumerate(exchanges)],
            "conversationId": conversation_id, "initiatorWorkerId": 1, "respondentWorkerId": 2}


TEST_DIALOGUES = [
    redial_dialogue("900", [(1, "Hi! I loved @1001"), (1, "anything similar?"), (2, "You might like @1002 or @1001"),
                            (1, "Seen @1002 already. Something scary?"), (2, "Try @1005 tonight"), (1, "Thanks, bye")],
                    ["1001", "1002", "1005"]),
    redial_dialogue("901", [(2, "Hello, I recommend @1003"), (1, "Heat with Pacino?"), (2, "Yes @1004 is great")],
                    ["1003", "1004"]),
]
TRAIN_FILES = {
    "redial/kgsf/valid_data.jsonl": [
        redial_dialogue("100", [(1, "I like crime movies like @1004"), (2, "Then watch @1007")], ["1004", "1007"]),
        redial_dialogue("101", [(1, "Any animation?"), (2, "@1008 and @1001 are lovely")], ["1008", "1001"])],
    "redial/cfcrs/valid_data.jsonl": [
        redial_dialogue("101", [(1, "duplicate of 101, ignored"), (2, "@1009")], ["1009"]),
        redial_dialogue("102", [(1, "Horror please, I saw @1011"), (2, "@1005 then @1006")], ["1011", "1005", "1006"])],
    "redial/kepler/train_data.jsonl": [
        redial_dialogue("103", [(1, "Something with Keanu"), (2, "@1003 of course, and @1008")], ["1003", "1008"])],
    "redial/kepler/valid_data.jsonl": [
        redial_dialogue("104", [(1, "Sharks?"), (2, "@1009 is the classic")], ["1009"])],
}


def write_kg(folder: Path, movie_uris: list[str]) -> dict[str, int]:
    entities = list(dict.fromkeys(movie_uris + [R.format(x) for v in PEOPLE.values() for x in v]))
    entity2id = {uri: i for i, uri in enumerate(entities)}
    relation2id = {O.format("director"): 0, O.format("starring"): 1, O.format("genre"): 2, "self_loop": 3}
    subkg = {}
    for movie_id, _, _, dbp in MOVIES:
        if dbp and movie_id in PEOPLE:
            head = entity2id[R.format(dbp)]
            director, star, genre = (entity2id[R.format(x)] for x in PEOPLE[movie_id])
            subkg[str(head)] = [[3, head], [0, director], [1, star], [2, genre]]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "entity2id.json").write_text(json.dumps(entity2id))
    (folder / "relation2id.json").write_text(json.dumps(relation2id))
    (folder / "dbpedia_subkg.json").write_text(json.dumps(subkg))
    return entity2id


def write_jsonl(path: Path, rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def inspired_turn(role: str, text: str, movies: list[str] = ()) -> dict:
    by_dbp = {m[3]: m[1] for m in MOVIES if m[3]}
    return {"text": text, "role": role, "movie": [" ".join(by_dbp.get(m, m.replace("_", " ")).split()) for m in movies], "entity_link": [],
            "entity_name": [], "movie_link": [R.format(m) for m in movies], "movie_name": [m for m in movies]}


def write_movielens(root: Path) -> None:
    """A MovieLens zip laid out like ml-latest-small: four users who like the two Toy Storys together and the two
    Aliens together; movies map to the catalogue by title and year ("Matrix, The" as MovieLens writes it)."""
    movies = {1: "Toy Story (1995)", 2: "Toy Story 2 (1999)", 3: '"Matrix, The (1999)"', 4: "Alien (1979)",
              5: "Aliens (1986)", 6: "Not In The Catalogue (2001)"}
    liked = {1: (1, 2, 3), 2: (1, 2), 3: (4, 5, 6), 4: (4, 5, 3)}
    path = root / "movielens" / "ml-latest-small.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("ml-latest-small/ratings.csv", "userId,movieId,rating,timestamp\r\n" + "".join(
            f"{user},{movie},4.5,964982703\r\n" for user, movies_liked in liked.items() for movie in movies_liked))
        archive.writestr("ml-latest-small/movies.csv", "movieId,title,genres\r\n" + "".join(
            f"{movie},{title},Drama\r\n" for movie, title in movies.items()))
        archive.writestr("ml-latest-small/links.csv", "movieId,imdbId,tmdbId\r\n" + "".join(
            f"{movie},{9000000 + movie},{movie}\r\n" for movie in movies))


def write_tiny_data(root: Path) -> Path:
    """Write the tiny world under ``root`` (layout of the data directory) and return ``root``."""
    raw = root / "redial" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    (raw / "movies_with_mentions.csv").write_text(
        "movieId,movieName,nbMentions\n" + "".join(f'{m},"{n}",{c}\n' for m, n, c, _ in MOVIES))
    write_jsonl(raw / "test_data.jsonl", TEST_DIALOGUES)
    for rel, dialogues in TRAIN_FILES.items():
        write_jsonl(root / rel, dialogues)
    links = defaultdict(lambda: None, {int(m): R.format(d) if d else None for m, _, _, d in MOVIES})
    (root / "redial" / "kgsf" / "id2entity.pkl").write_bytes(pickle.dumps(dict(links)))
    info = {m: {"name": n, "genre": ["comedy"] if m in ("1001", "1002") else [], "plot": f"Plot of {n.split('(')[0].strip()}.",
                "director": [], "writer": ["A. Writer"], "star": ["Tom Hanks"] if m == "1001" else [], "imdb_id": "tt0"}
            for m, n, _, _ in MOVIES if m != "1012"}
    text = json.dumps(info)
    (root / "redial" / "cfcrs").mkdir(parents=True, exist_ok=True)
    (root / "redial" / "cfcrs" / "id2info.json").write_text(text.replace('"}, "1003"', '"}f, "1003"', 1))  # the real defect
    write_kg(root / "redial" / "unicrs", [R.format(d) for _, _, _, d in MOVIES if d])

    write_movielens(root)

    uni = root / "inspired" / "unicrs"
    entity2id = write_kg(uni, [R.format(d) for _, _, _, d in MOVIES if d])
    (uni / "item_ids.json").write_text(json.dumps([entity2id[R.format(d)] for _, _, _, d in MOVIES if d]))
    S, REC = "SEEKER", "RECOMMENDER"
    write_jsonl(uni / "train_data_dbpedia.jsonl", [
        [inspired_turn(REC, "Hi! What do you like?"), inspired_turn(S, "Pixar, like Toy Story", ["Toy_Story"]),
         inspired_turn(REC, "Then Up is for you", ["Up_(2009_film)"])],
        [inspired_turn(S, "Scary please"), inspired_turn(REC, "Alien and Aliens, both scary, with Sigourney Weaver",
                                                         ["Alien_(film)", "Aliens_(film)"])]])
    write_jsonl(uni / "valid_data_dbpedia.jsonl", [
        [inspired_turn(S, "Crime?"), inspired_turn(REC, "Fargo", ["Fargo_(1996_film)"])]])
    write_jsonl(uni / "test_data_dbpedia.jsonl", [
        [inspired_turn(S, "I want sci-fi"), inspired_turn(REC, "The Matrix!", ["The_Matrix"]),
         inspired_turn(S, "Seen it, and Heat", ["The_Matrix", "Heat_(1995_film)"]),
         inspired_turn(REC, "The Matrix again, or Jaws", ["The_Matrix", "Jaws_(film)", "Not_A_Catalogue_Movie"])],
        [inspired_turn(REC, "Psycho is a classic", ["Psycho_(1960_film)"])]])
    return root
