"""Mine phrasebook candidates (``training/phrasebook-mined.yaml``) and the masked good replies (``replies.jsonl``).

The shipped phrasebook (``knowledge/phrasebook.yaml``) is curated: mined sentences kept another case's situation
(a blind rater found 64 % of them unusable), so they are candidates for trainers to review, not examples.

From the good drafts of ``drafts.jsonl`` (every criterion ``ok``):
1. attribute each sentence to criteria by ablation: the draft without the sentence is judged again by the
   fitted critic; a criterion it then flags (``ablation-flag``), or whose P(violated) rises the most for this
   sentence, in standard deviations of the criterion's rises (``ablation-delta``), gets the sentence. A sentence
   the critic's sentence model reads as saying a violation is never used;
2. mask the case's facts into slots: numbers, amounts, dates, times, order ids, contacts (``coach.facts``),
   capitalised words inside a sentence (names, places, brands), and the situation's words (``[what happened]``:
   a word of 4+ letters used in fewer than 4 of the 12 service domains);
3. drop sentences still too case-specific: longer than 140 characters or 22 words, more than two slots of
   situation, or more situation words than others.

    uv run python training/phrasebook.py                  # mine the candidates, rebuild the replies and vectors
    uv run python training/phrasebook.py --vectors-only   # after editing knowledge/phrasebook.yaml: its vectors
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from coach.facts import GREETING, fact_spans  # noqa: E402
from coach.judging.critic import load_critic_model, logit  # noqa: E402
from coach.judging.injection import is_instruction  # noqa: E402
from coach.knowledge.embeddings import VECTORS_FILE, Embedder, vector_key  # noqa: E402
from coach.knowledge.retrieval import text_vectors  # noqa: E402
from coach.language import SUPPORTED_LANGUAGES  # noqa: E402
from coach.prompts import load_rubric  # noqa: E402
from coach.text import sentence_spans  # noqa: E402

TARGET = 8  # phrasings kept per criterion and language
TOP_CRITERIA = 3  # a sentence no flag claims is credited to the criteria it raises most, at most this many
MIN_Z = 0.5  # a rise (in standard deviations of the criterion's rises) below which a sentence is not credited
MAX_CHARS, MAX_WORDS, MIN_WORDS = 140, 22, 3
MAX_DETAIL_SLOTS = 1
GENERIC_DOMAINS = 3  # a word used in 4+ of the 12 domains is general vocabulary; any other word is the situation's
STEM = 6  # characters of a word that stand for it (ru, kk, mn and el inflect heavily)

SLOTS: dict[str, dict[str, str]] = {
    "name": {"en": "name", "ru": "имя", "el": "όνομα", "kk": "аты", "mn": "нэр"},
    "order": {"en": "order number", "ru": "номер заказа", "el": "αριθμός παραγγελίας", "kk": "тапсырыс нөмірі",
              "mn": "захиалгын дугаар"},
    "amount": {"en": "amount", "ru": "сумма", "el": "ποσό", "kk": "сома", "mn": "дүн"},
    "date": {"en": "date", "ru": "дата", "el": "ημερομηνία", "kk": "күні", "mn": "огноо"},
    "time": {"en": "time", "ru": "время", "el": "ώρα", "kk": "уақыты", "mn": "цаг"},
    "number": {"en": "number", "ru": "число", "el": "αριθμός", "kk": "саны", "mn": "тоо"},
    "contact": {"en": "contact", "ru": "контакт", "el": "στοιχεία επικοινωνίας", "kk": "байланыс",
                "mn": "холбоо барих"},
    "detail": {"en": "what happened", "ru": "что случилось", "el": "τι συνέβη", "kk": "не болғаны",
               "mn": "юу болсон"},
}  # fmt: skip
DATE_WORDS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
              "march", "april", "june", "july", "august", "september", "october", "november", "december"}  # fmt: skip
POLITE = {"вы", "вас", "вам", "вами", "ваш", "ваша", "ваше", "ваши", "вашего", "вашей", "вашу", "вашим", "ваших",
          "сіз", "сізге", "сізді", "сіздің", "сізбен", "та", "танд", "таны", "тантай", "σας", "i", "i'm", "i’m", "i'll",
          "i’ll", "i've", "i’ve", "i'd", "i’d"}  # fmt: skip
REPLY_WRITERS = {"wa", "wb", "wc", "wd", "we"}  # training/raw/<lang>-<writer>.jsonl of the first round
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def stem(word: str) -> str:
    return word.lower()[:STEM]


def general_words(rows: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Per language, the word stems used in at least 4 of the 12 service domains: general vocabulary."""
    domains: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in rows:
        for text in (row["text"], row["customer_message"]):
            for word in WORD.findall(text):
                domains[row["language"]][stem(word)].add(row["domain"])
    return {lang: {w for w, d in words.items() if len(d) >= GENERIC_DOMAINS} for lang, words in domains.items()}


def mask(sentence: str, language: str, general: set[str] | None = None) -> tuple[str, int, int]:
    """The sentence with facts, names and situation words as slots; (text, situation slots, words).

    Names: capitalised words inside the sentence, and a capitalised first word followed by one. Situation words:
    words of 4+ letters outside the ``general`` vocabulary (none are masked without it).
    """
    marks: list[tuple[int, int, str]] = list(fact_spans(sentence))
    taken = [(a, b) for a, b, _ in marks]
    words = list(WORD.finditer(sentence))
    for index, match in enumerate(words):
        a, b = match.span()
        if any(a < y and x < b for x, y in taken):
            continue
        word = match.group()
        starts_line = not sentence[:a].strip() or sentence[:a].rstrip(" \t").endswith("\n")
        quoted = sentence[:a].rstrip().endswith(("«", '"', ":", "“"))
        following = words[1].group() if len(words) > 1 else ""
        # "Anna Smith" starts with a name; "Can I", "Order ABC12" and "PIN CODE" do not
        first_of_name = (
            index == 0
            and following.istitle()
            and len(following) > 1
            and following.lower() not in POLITE
            and not GREETING.match(word)  # "Hi Sarah" keeps its "Hi"
        )
        if word.lower() in DATE_WORDS:
            marks.append((a, b, "date"))
        elif word[0].isupper() and word.lower() not in POLITE and not quoted and (not starts_line or first_of_name):
            marks.append((a, b, "name"))
        elif general is not None and len(word) >= 4 and stem(word) not in general:
            marks.append((a, b, "detail"))
    for number in re.finditer(r"\d+(?:[.,:]\d+)*\s?(am|pm)?", sentence):
        a, b = number.span()
        if not any(a < y and x < b for x, y, _ in marks):
            marks.append((a, b, "time" if number.group(1) else "number"))  # "4pm", "3" left by the recognisers
    marks.sort()
    pieces, position, details, previous = [], 0, 0, ""
    for a, b, kind in marks:
        gap = sentence[position:a]
        if kind == previous and re.fullmatch(r"[\s,-]*|\s+(?:и|and|και|және|ба)\s+", gap):
            position = b  # neighbouring slots of one kind are one slot
            continue
        pieces += [gap, f"[{SLOTS[kind][language]}]"]
        details += kind == "detail"
        position, previous = b, kind
    pieces.append(sentence[position:])
    return "".join(pieces), details, len(words)


def usable(text: str, details: int, words: int, slot_words: int) -> bool:
    """Short, general sentences only: few situation slots, more words of its own than slots, a whole sentence."""
    if not text[:1].isalpha() or text.count("(") != text.count(")") or "\n" in text:
        return False
    if GREETING.match(text) and words < 8:
        return False  # a greeting is not coaching
    if len(text) > MAX_CHARS or not MIN_WORDS <= words <= MAX_WORDS or details > MAX_DETAIL_SLOTS:
        return False
    own = len(WORD.findall(re.sub(r"\[[^\]]*\]", " ", text)))
    return own >= MIN_WORDS and own > slot_words


def ablations(rows: list[dict[str, Any]], embedder: Embedder, critic: Any, keep: Path | None) -> list[dict[str, Any]]:
    """Per sentence of each good draft: the criterion's log-odds rise when the draft goes without it.

    With ``keep`` (a JSONL file), each draft's findings are appended as they come and a rerun resumes.
    """
    found: list[dict[str, Any]] = []
    done: set[str] = set()
    if keep is not None and keep.is_file():
        for line in keep.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if record["draft"] not in done:
                done.add(record["draft"])
                found += record["found"]
    for number, row in enumerate(rows):
        if row["id"] in done:
            continue
        start = len(found)
        text, message = row["text"], row["customer_message"]
        spans = sentence_spans(text)
        if len(spans) < 2:
            continue
        without = [" ".join(text[a:b] for j, (a, b) in enumerate(spans) if j != i) for i in range(len(spans))]
        vectors = text_vectors(embedder, [text, *without])
        sentence_vectors = embedder.queries([text[a:b] for a, b in spans])
        customer = embedder.queries([message])[0]
        base = critic.violation_probabilities(
            vectors[0], sentence_vectors, customer, critic.text_features(text, message)
        )
        for i, (a, b) in enumerate(spans):
            rest = np.delete(sentence_vectors, i, axis=0)
            lexical = critic.text_features(without[i], message)
            probabilities = critic.violation_probabilities(vectors[i + 1], rest, customer, lexical)
            for cid, model in critic.criteria.items():
                said = model.sentence.probabilities(sentence_vectors[i : i + 1])[0] if model.sentence else 0.0
                found.append(
                    {
                        "draft": row["id"], "language": row["language"], "domain": row["domain"],
                        "sentence": text[a:b], "criterion": cid, "said": float(said),
                        "saying_threshold": model.sentence_threshold,
                        "delta": logit(probabilities[cid]) - logit(base[cid]),
                        "flag": probabilities[cid] >= model.threshold > base[cid],
                    }
                )  # fmt: skip
        if keep is not None:
            with keep.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"draft": row["id"], "found": found[start:]}, ensure_ascii=False) + "\n")
        if number % 25 == 0:
            print(f"  {number}/{len(rows)} drafts", file=sys.stderr, flush=True)
    return found


def body_line(sentence: str) -> str:
    """A sentence glued to a greeting or sign-off line ("Hi Anna,\nSorry for…"): its longest line."""
    return max(sentence.split("\n"), key=len).strip()


def choose(
    candidates: list[dict[str, Any]], general: dict[str, set[str]]
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Per criterion and language, up to ``TARGET`` masked phrasings: flagged ones first, then the largest rises.

    A sentence no criterion's flag claims is credited only to the three criteria whose P(violated) it raises most,
    rises measured in standard deviations of each criterion's rises (their scales differ by criterion).
    """
    spread = {
        criterion: float(np.std([c["delta"] for c in candidates if c["criterion"] == criterion])) or 1.0
        for criterion in {c["criterion"] for c in candidates}
    }
    for c in candidates:
        c["z"] = c["delta"] / spread[c["criterion"]]
    ranked: dict[tuple[str, str], list[tuple[float, str]]] = defaultdict(list)
    for c in candidates:
        ranked[(c["draft"], c["sentence"])].append((c["z"], c["criterion"]))
    top = {key: {criterion for _, criterion in sorted(zs, reverse=True)[:TOP_CRITERIA]} for key, zs in ranked.items()}
    cells: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for c in candidates:
        strongest = c["criterion"] in top[(c["draft"], c["sentence"])]
        if c["said"] < c["saying_threshold"] and (c["flag"] or (strongest and c["z"] >= MIN_Z)):
            cells[(c["criterion"], c["language"])].append(c)
    book: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(dict)
    for (criterion, language), found in sorted(cells.items()):
        found.sort(key=lambda c: (not c["flag"], -c["z"], c["draft"]))
        chosen, seen = [], set()
        for c in found:
            text, details, words = mask(body_line(c["sentence"]), language, general[language])
            slot_words = len(WORD.findall(" ".join(re.findall(r"\[([^\]]*)\]", text))))
            key = " ".join(text.lower().split())
            if key in seen or not usable(text, details, words, slot_words):
                continue
            seen.add(key)
            chosen.append(
                {
                    "text": text,
                    "source": {"draft": c["draft"], "sentence": c["sentence"], "domain": c["domain"]},
                    "method": "ablation-flag" if c["flag"] else "ablation-delta",
                    "delta": round(c["delta"], 3),
                }
            )
            if len(chosen) == TARGET:
                break
        book[criterion][language] = chosen
    return book


def masked_reply(row: dict[str, Any]) -> dict[str, Any]:
    """A good reply with its facts and names as slots (situation words kept: they say what the case is), without a
    note to a grader ("rate this 5/5"): a few training drafts carry one, and it is not part of the reply."""
    language = row["language"]
    spans = [(a, b) for a, b in sentence_spans(row["text"]) if not is_instruction(row["text"][a:b])]
    text = " ".join(mask(row["text"][a:b], language)[0] for a, b in spans)
    message = " ".join(
        mask(row["customer_message"][a:b], language)[0] for a, b in sentence_spans(row["customer_message"])
    )
    return {"id": row["id"], "language": language, "domain": row["domain"], "customer_message": message, "text": text}


def write_replies(folder: Path, good: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``replies.jsonl``: the good drafts of the first round's writers (the 12 service domains the similar replies'
    domain classifier knows) with their facts and names masked, by id."""
    first_round = [r for r in good if r["id"].split("-")[1] in REPLY_WRITERS]
    replies = [masked_reply(r) for r in sorted(first_round, key=lambda r: r["id"])]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in replies)
    (folder / "replies.jsonl").write_text(text, encoding="utf-8")
    return replies


def write_vectors(path: Path, phrasings: dict[str, Any], replies: list[dict[str, Any]], embedder: Embedder) -> None:
    """The e5 vectors of every phrasing (as queries) and every reply's message and text (as the critique embeds a
    draft), so a fresh install does not embed ~900 texts on its first critique."""
    texts = sorted({p["text"] for by_language in phrasings.values() for ps in by_language.values() for p in ps})
    pieces = sorted({t for r in replies for t in (r["customer_message"], r["text"])})
    keys = [vector_key("query", t) for t in texts] + [vector_key("text", t) for t in pieces]
    vectors = np.concatenate([embedder.queries(texts), text_vectors(embedder, pieces)])
    np.savez_compressed(path, keys=np.array(keys), vectors=vectors.astype(np.float32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--drafts", type=Path, default=ROOT / "training" / "drafts.jsonl")
    parser.add_argument("--out", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--ablations", type=Path, default=None, help="keep the ablations in this JSONL file (resumes)")
    parser.add_argument("--threads", type=int, default=1, help="embedding threads (1 is faster on a busy machine)")
    parser.add_argument("--no-vectors", action="store_true", help="do not precompute the texts' vectors")
    parser.add_argument("--reverse", action="store_true", help="ablate from the last draft (a second worker)")
    parser.add_argument("--only-cached", action="store_true", help="use only the ablations already kept (a preview)")
    parser.add_argument("--mined", type=Path, default=ROOT / "training" / "phrasebook-mined.yaml")
    parser.add_argument("--vectors-only", action="store_true", help="only the vectors of the shipped phrasebook")
    parser.add_argument("--replies-only", action="store_true", help="only knowledge/replies.jsonl and the vectors")
    args = parser.parse_args()
    if args.vectors_only:
        refresh_vectors(args.out, Embedder(args.threads))
        return
    rows = [json.loads(line) for line in args.drafts.read_text(encoding="utf-8").splitlines() if line.strip()]
    good = [r for r in rows if all(v["label"] == "ok" for v in r["verdicts"].values())]
    if args.replies_only:
        write_replies(args.out, good)
        refresh_vectors(args.out, Embedder(args.threads))
        return
    by_language: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in good:
        by_language[row["language"]].append(row)
    good = [r for group in zip(*by_language.values(), strict=False) for r in group]  # languages in turn
    good += [r for group in by_language.values() for r in group if r not in good]
    general = general_words(rows)
    critic, rubric = load_critic_model(), load_rubric()
    print(f"{len(good)} good drafts of {len(rows)}; ablating their sentences", file=sys.stderr)
    if args.only_cached and args.ablations is not None:
        good_ids = {r["id"] for r in good}
        lines = args.ablations.read_text(encoding="utf-8").splitlines() if args.ablations.is_file() else []
        records = {json.loads(line)["draft"]: json.loads(line)["found"] for line in lines}
        found = [f for draft, kept in records.items() if draft in good_ids for f in kept]
    else:
        found = ablations(good[::-1] if args.reverse else good, Embedder(args.threads), critic, args.ablations)
    book = choose(found, general)
    phrasings = {c: {lang: book.get(c, {}).get(lang, []) for lang in SUPPORTED_LANGUAGES} for c in rubric.ids}
    document = {
        "version": "phrasebook-1",
        "method": (
            f"Mined by training/phrasebook.py from the {len(good)} good drafts of training/drafts.jsonl with critic "
            f"{critic.version}: a sentence belongs to a criterion when the draft without it is flagged (ablation-flag) "
            "or its P(violated) rises most, in the criterion's standard deviations "
            f"(ablation-delta, z >= {MIN_Z}); facts, names and words used in fewer than 4 of the 12 domains masked "
            "into slots; sentences over 140 characters or 22 words, or with more than two situation slots, dropped."
        ),
        "slots": SLOTS,
        "phrasings": phrasings,
    }
    header = "# Mined phrasebook candidates, facts as [slots]: review them before copying one into knowledge/.\n"
    header += "# Rebuild: uv run python training/phrasebook.py (overwrites this file).\n"
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=120)
    args.mined.write_text(header + text, encoding="utf-8")
    replies = write_replies(args.out, good)
    if not args.no_vectors:
        refresh_vectors(args.out, Embedder(args.threads))
    for criterion in rubric.ids:
        counts = {lang: len(phrasings[criterion][lang]) for lang in SUPPORTED_LANGUAGES}
        flagged = sum(
            p["method"] == "ablation-flag" for lang in SUPPORTED_LANGUAGES for p in phrasings[criterion][lang]
        )
        print(f"{criterion:26} {counts}  ablation-flag {flagged}", file=sys.stderr)
    print(f"wrote {args.mined} and {len(replies)} replies", file=sys.stderr)


def refresh_vectors(folder: Path, embedder: Embedder) -> None:
    """The vectors file for the shipped phrasebook and replies of ``folder``."""
    book = yaml.safe_load((folder / "phrasebook.yaml").read_text(encoding="utf-8"))
    lines = (folder / "replies.jsonl").read_text(encoding="utf-8").splitlines()
    replies = [json.loads(line) for line in lines if line.strip()]
    write_vectors(folder / VECTORS_FILE, book["phrasings"], replies, embedder)
    print(f"wrote {folder / VECTORS_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()
