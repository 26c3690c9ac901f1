"""Which of the shop's answers a question is asking for, and how sure we are.

`Matcher` is the interface: `fit` once on a shop's answers in one language, then
`match` each question. The default, `TfidfMatcher`, needs no model download: it
compares character n-grams (scikit-learn's TfidfVectorizer, `char_wb`), which survive
typos, missing diacritics and the endings of morphologically rich languages (Estonian
cases, Polish and Russian declension, Hebrew and Arabic affixes), and adds a word-level
score on crude stems so that one shared rare word counts for more than shared letters.
Russian and Arabic are compared through a rough Latin key as well
(normalize.phonetic), so "dostavka" meets "доставка".

Confidence is calibrated: a logistic function of the best score and of its lead over
the next answer, fitted on the labelled evaluation set (tests/data/answers, six
languages; bench/answers.py refits and reports it), so 0.8 means "right about 8 times
in 10" on questions like those. A stronger backend (an embedding model, an endpoint
the shop configures) implements the same two methods and must say the same.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]

from app.answers.concepts import concepts
from app.answers.normalize import normalize, phonetic
from app.answers.stopwords import content_words


@dataclass(frozen=True)
class AnswerText:
    """What a matcher reads of one of the shop's answers."""

    id: Hashable
    question: str
    answer: str
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    """The best answer for a question: `confidence` in [0, 1], `why` a sentence the
    merchant reads in the preview ("close to “How long does delivery take?”")."""

    answer_id: Hashable
    confidence: float
    why: str
    # The best score and the next answer's, before calibration (for the bench and the preview).
    score: float = 0.0
    runner_up: float = 0.0


class Matcher(Protocol):
    def fit(self, answers: Sequence[AnswerText], language: str) -> None: ...

    def match(self, question: str) -> Match | None:
        """The best answer, or None when there is nothing to compare with."""
        ...


# -- calibration ---------------------------------------------------------------------------

# confidence = 1 / (1 + exp(-(BIAS + SCORE * score + LEAD * (score - runner_up)))),
# fitted by logistic regression on the evaluation set (bench/answers.py --calibrate).
CALIBRATION = {"bias": -4.18, "score": 8.09, "lead": 10.18}


def calibrated(score: float, runner_up: float, weights: dict[str, float] = CALIBRATION) -> float:
    z = weights["bias"] + weights["score"] * score + weights["lead"] * (score - runner_up)
    return 1.0 / (1.0 + math.exp(-z))


# -- the default backend -------------------------------------------------------------------


def _identity(tokens: list[str]) -> list[str]:
    return tokens


Vector = np.ndarray[Any, np.dtype[np.float64]]


class _Channel:
    """One fitted TF-IDF vectorizer, and the query side of it done by hand: scikit-learn's
    `transform` validates its input at a cost of a millisecond a call, more than the
    whole match; the arithmetic here is the same (sublinear tf, the fitted idf, L2)."""

    def __init__(self, vectorizer: TfidfVectorizer, documents: Sequence[Any]):
        self.vectorizer = vectorizer
        self.matrix = vectorizer.fit_transform(documents)
        self.analyze = vectorizer.build_analyzer()
        self.vocabulary: dict[str, int] = vectorizer.vocabulary_
        self.idf: Vector = np.asarray(vectorizer.idf_, dtype=np.float64)

    def query(self, document: Any) -> tuple[np.ndarray[Any, np.dtype[np.intp]], Vector]:
        """The query's feature columns and their weights (L2-normalized)."""
        counts: dict[int, int] = {}
        for term in self.analyze(document):
            column = self.vocabulary.get(term)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.fromiter(counts, dtype=np.intp, count=len(counts))
        weights = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))) * self.idf[columns]
        norm = float(np.linalg.norm(weights))
        return columns, (weights / norm if norm else weights)


@dataclass
class _Index:
    ids: list[Hashable]
    # Rows 0..P-1 of the matrix are phrasings (a question or an alternative), `owner[row]`
    # the answer each belongs to; rows P.. are the answers' own texts, one per answer.
    owner: np.ndarray[Any, np.dtype[np.intp]]
    phrasings: list[str]
    chars: _Channel
    topics: _Channel
    # Both channels side by side, transposed (features × rows), concepts pre-weighted:
    # one product gives every row's weighted sum of cosines.
    features: Any


@dataclass
class TfidfMatcher:
    """Character n-gram TF-IDF over the questions, their alternatives and the answers,
    plus the shop-vocabulary concepts (concepts.py) as a second, word-level channel."""

    # How much the answer's own text counts beside its question (questions are what
    # shoppers' questions resemble; the text adds the words they use about it).
    body_weight: float = 0.3
    # How much the shop-vocabulary concepts count beside the character n-grams.
    concept_weight: float = 1.0
    _language: str = "en"
    _index: _Index | None = field(default=None, repr=False)

    def _forms(self, text: str) -> tuple[str, list[str]]:
        """`text` as the character channel reads it (its content words, and their Latin
        key where the language has one) and as the concept channel reads it."""
        normalized = normalize(text)
        words = content_words(normalized)
        form = " ".join(words) or normalized
        key = phonetic(form, self._language)
        return (f"{form} {key}" if key and key != form else form), concepts(words)

    def fit(self, answers: Sequence[AnswerText], language: str) -> None:
        self._language = language
        if not answers:
            self._index = None
            return
        phrasings: list[str] = []
        owner: list[int] = []
        for position, answer in enumerate(answers):
            for text in (answer.question, *answer.alternatives):
                if text.strip():
                    phrasings.append(text)
                    owner.append(position)
        texts = phrasings + [f"{answer.question} {answer.answer}" for answer in answers]
        forms = [self._forms(text) for text in texts]
        chars = _Channel(
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, dtype=np.float64),
            [form for form, _ in forms],
        )
        # "-" keeps the vocabulary from being empty when no text names a concept.
        topics = _Channel(
            TfidfVectorizer(analyzer=_identity, sublinear_tf=True, dtype=np.float64),
            [named for _, named in forms] + [["-"]],
        )
        stacked = sparse.hstack([chars.matrix, self.concept_weight * topics.matrix[: len(texts)]])
        self._index = _Index(
            ids=[answer.id for answer in answers],
            owner=np.asarray(owner, dtype=np.intp),
            phrasings=phrasings,
            chars=chars,
            topics=topics,
            features=sparse.csr_matrix(stacked.T),
        )

    def scores(self, question: str) -> tuple[Vector, Vector]:
        """Per phrasing and per answer text: the weighted sum of cosines with `question`."""
        index = self._index
        assert index is not None
        form, named = self._forms(question)
        char_columns, char_weights = index.chars.query(form)
        topic_columns, topic_weights = index.topics.query(named)
        columns = np.concatenate([char_columns, topic_columns + index.chars.matrix.shape[1]])
        weights = np.concatenate([char_weights, topic_weights])
        rows = np.asarray(index.features[columns].T @ weights, dtype=np.float64).ravel()
        phrasing_count = len(index.phrasings)
        return rows[:phrasing_count], rows[phrasing_count:]

    def match(self, question: str) -> Match | None:
        index = self._index
        if index is None or not normalize(question):
            return None
        per_phrasing, bodies = self.scores(question)
        best = np.full(len(index.ids), -1.0)
        np.maximum.at(best, index.owner, per_phrasing)
        total = (best + self.body_weight * bodies) / ((1 + self.concept_weight) * (1 + self.body_weight))
        ranked = np.argsort(-total)
        top = int(ranked[0])
        score = float(total[top])
        runner_up = float(total[ranked[1]]) if len(ranked) > 1 else 0.0
        own = np.flatnonzero(index.owner == top)
        phrasing = index.phrasings[int(own[np.argmax(per_phrasing[own])])]
        why = f"closest to “{phrasing}” (score {score:.2f}, next answer {runner_up:.2f})"
        return Match(index.ids[top], calibrated(score, runner_up), why, score=score, runner_up=runner_up)


# -- one fitted matcher per shop's answer list ----------------------------------------------


def fingerprint(answers: Sequence[AnswerText]) -> str:
    """The version of an answer list: changes when any answer is added, removed or edited."""
    digest = hashlib.blake2b(digest_size=16)
    for answer in answers:
        digest.update(json.dumps([repr(answer.id), answer.question, answer.answer, list(answer.alternatives)]).encode())
    return digest.hexdigest()


class MatcherCache:
    """Fitted matchers by (shop, language), refitted when the list's version changes.

    Fitting costs what a few hundred matches cost, so it happens once per edit of a
    shop's answers, not per question. Reading the list to fingerprint it is one query;
    the least recently used shops are dropped first.
    """

    def __init__(self, make: Callable[[], Matcher] = TfidfMatcher, size: int = 256):
        self._make = make
        self._size = size
        self._fitted: OrderedDict[tuple[int, str], tuple[str, Matcher]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, shop_id: int, language: str, answers: Sequence[AnswerText]) -> Matcher:
        key, version = (shop_id, language), fingerprint(answers)
        with self._lock:
            held = self._fitted.get(key)
            if held is not None and held[0] == version:
                self._fitted.move_to_end(key)
                return held[1]
        matcher = self._make()
        matcher.fit(answers, language)
        with self._lock:
            self._fitted[key] = (version, matcher)
            self._fitted.move_to_end(key)
            while len(self._fitted) > self._size:
                self._fitted.popitem(last=False)
        return matcher

    def forget(self, shop_id: int) -> None:
        """Drop a shop's matchers (after its erasure)."""
        with self._lock:
            for key in [key for key in self._fitted if key[0] == shop_id]:
                del self._fitted[key]
