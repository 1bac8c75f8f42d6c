"""English words for messages: the indefinite article and plurals, said once; and register
text put into a longer text (:func:`isolated`).

Every message that puts a count or a name of a kind into a sentence asks here, so "a activity",
"1 activities" and "would change 1 records" cannot come back one message at a time.
"""

from __future__ import annotations

import re
import unicodedata

#: Nouns whose plural is not the regular one.
_IRREGULAR = {"person": "people", "criterion": "criteria", "child": "children"}
#: Words that start with a vowel letter but a consonant sound, and the reverse.
_CONSONANT_SOUND = re.compile(r"^(uni|use|usa|uk\b|uk-|one|euro)", re.IGNORECASE)
_VOWEL_SOUND = re.compile(r"^(hour|honest|honou?r|heir)", re.IGNORECASE)
#: Abbreviations read letter by letter ("an SCC", "an ISO date", "a DPIA") and article
#: abbreviations read as words ("an Art. 9 condition" is "an article 9 condition").
_LETTER_VOWEL_SOUND = set("AEFHILMNORSX")


def article(phrase: str) -> str:
    """ "a" or "an" for the phrase as it is read aloud: an activity, a data category,
    an Art. 9 condition, an SCC, a UK controller, an hour."""
    word = phrase.strip().split(" ", 1)[0]
    if not word:
        return "a"
    if word.lower().startswith("art"):
        return "an"
    if _VOWEL_SOUND.match(word):
        return "an"
    if _CONSONANT_SOUND.match(word):
        return "a"
    letters = re.sub(r"[^A-Za-z]", "", word)
    if len(letters) > 1 and letters.isupper():  # an abbreviation, spelt out
        return "an" if letters[0] in _LETTER_VOWEL_SOUND else "a"
    return "an" if word[0].lower() in "aeiou" else "a"


def a(phrase: str) -> str:
    """The phrase with its indefinite article: "an activity", "a party"."""
    return f"{article(phrase)} {phrase}"


def plural(noun: str) -> str:
    """The plural of a noun or of a noun phrase's last word: activity -> activities,
    data category -> data categories, party -> parties, record -> records."""
    head, _, last = noun.rpartition(" ")
    lower = last.lower()
    if lower in _IRREGULAR:
        word = _IRREGULAR[lower]
    elif re.search(r"[^aeiou]y$", lower):
        word = last[:-1] + "ies"
    elif re.search(r"(s|x|z|ch|sh)$", lower):
        word = last + "es"
    else:
        word = last + "s"
    return f"{head} {word}" if head else word


def count(number: int, noun: str, plural_form: str | None = None) -> str:
    """A number with its noun in the right number: "1 activity", "2 activities", "0 records"."""
    return f"{number} {noun if number == 1 else plural_form or plural(noun)}"


def join(items: list[str], conjunction: str = "and") -> str:
    """ "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st, 30th."""
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


#: Letters that Unicode does not decompose into a base letter and an accent.
_OWN_LETTERS = str.maketrans(
    {"æ": "ae", "ø": "o", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h"}
)


def plain_letters(text: str) -> str:
    """Lower case without accents, each letter as its Latin base letters: "Türkiye" ->
    "turkiye", "Ærø" -> "aero", "İletişim" -> "iletisim" (for matching, ordering and keys)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_OWN_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


#: Bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), as a
#: character range: register text may hold them, and wherever it is shown they can reorder
#: what follows it.
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")
#: What opens an embedding or override (closed by U+202C POP DIRECTIONAL FORMATTING), and an
#: isolate (closed by U+2069 POP DIRECTIONAL ISOLATE).
_EMBEDDINGS = frozenset("\u202a\u202b\u202d\u202e")
_ISOLATES = frozenset("\u2066\u2067\u2068")
_PDF, _PDI = "\u202c", "\u2069"


def isolated(text: str) -> str:
    """Register text holding bidirectional controls, closed in an isolate (U+2068 … U+2069):
    a right-to-left override in a name stays in the name instead of reversing the rest of the
    line (Unicode bidi algorithm, UAX #9). The controls inside are paired first
    (:func:`balanced`), so that no value can close the isolate early. Each value is isolated
    where it is put into a longer text: a list of names, a title, a change log's line."""
    return f"\u2068{balanced(text)}\u2069" if _BIDI.search(text) else text


def balanced(text: str) -> str:
    """The text with its bidirectional controls paired as UAX #9 pairs them (X6a, X7): a
    closing control with nothing of the text to close is dropped (a U+2069 would close the
    isolate around the text, and what follows would be reordered by the override after it),
    and what the text opens is closed at its end, embeddings with U+202C too, for a reader
    that knows embeddings and not isolates."""
    kept: list[str] = []
    opened: list[str] = []  # the controls open at this point, innermost last
    for c in text:
        if c in _EMBEDDINGS or c in _ISOLATES:
            opened.append(c)
        elif c == _PDF:
            if not opened or opened[-1] in _ISOLATES:
                continue  # closes no embedding of the text (and never an isolate)
            opened.pop()
        elif c == _PDI:
            if not any(o in _ISOLATES for o in opened):
                continue  # would close the isolate around the text
            while opened[-1] not in _ISOLATES:  # an isolate's end closes what opened inside
                opened.pop()
                kept.append(_PDF)
            opened.pop()
        kept.append(c)
    kept += [_PDI if o in _ISOLATES else _PDF for o in reversed(opened)]
    return "".join(kept)
