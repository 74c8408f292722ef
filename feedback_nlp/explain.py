"""Why a comment got its tags: the words behind each theme, and the sentiment of each theme's part.

Evidence is exact for the linear theme heads: a theme's decision is the sum over features of
feature value x weight, so each word of the comment is credited with its own word and question
features, its share of the bigrams' and of the character n-grams' contributions. The words or
two-word phrases with the largest credit are the evidence. A model with sentence embeddings
(see :mod:`feedback_nlp.embeddings`) also weighs the comment's embedding, which no word can be
credited with: its evidence is the words' part of the decision only.

Per-theme sentiment splits a comment into clauses (sentences, and at "but", "however", ...),
scores each clause with the same model, and gives each theme the sentiment of the clauses about
it, weighted by how strongly each clause is about that theme: in "lovely nurses but I waited
three hours" the nurses' clause carries confidence_and_trust and is positive, the waiting clause
carries access and is negative.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import numpy as np

from .features import char_ngrams, piece_words, question_kinds, text_pieces
from .themes import SENTIMENTS, THEME_IDS

EVIDENCE_SIZE = 3
# Where a comment turns from one matter to another: sentence ends and contrasting words.
_CLAUSE_BREAK = re.compile(
    r"(?<!\bdr)(?<!\bmr)(?<!\bmrs)(?<!\bms)(?<!\bst)[.!?;:\n]+|\s[-–—]+\s|\b(?:but|however|although|though|whereas|except|apart from|"
    r"unfortunately|sadly|otherwise|only thing|on the other hand)\b",
    re.IGNORECASE,
)


def clauses(text: str) -> list[str]:
    """The clauses of a comment: its sentences, cut again at contrasting words such as "but"."""
    parts = (part.strip(" ,") for part in _CLAUSE_BREAK.split(text))
    return [part for part in parts if piece_words(part)]


# The part of a comment about one theme is rarely mixed, so it is positive or negative, whichever
# is likelier, unless neither reaches this share of the probability (a plain statement).
POLAR_FLOOR = 0.1


def theme_sentiments(model, texts, questions, sentiment_scores) -> np.ndarray:
    """The sentiment of the part of each comment about each theme: (n, 5) ``SENTIMENTS`` labels.

    Each theme takes the sentiment probabilities of the comment's clauses averaged with weights
    equal to each clause's score for that theme (a comment of one clause: its own probabilities),
    then the likelier of positive and negative, or neutral when neither reaches ``POLAR_FLOOR``.
    """
    mixture = np.repeat(sentiment_scores[:, None, :], len(THEME_IDS), axis=1)
    split = [clauses(t) if isinstance(t, str) else [] for t in texts]
    several = np.flatnonzero([len(parts) > 1 for parts in split])
    if len(several):
        counts = np.array([len(split[i]) for i in several])
        parts = [part for i in several for part in split[i]]
        part_questions = (
            None if questions is None else np.repeat(np.asarray(questions, dtype=object)[several], counts)
        )
        part_scores = model.predict_scores(parts, part_questions)
        part_themes, part_sentiments = part_scores.themes, part_scores.sentiment
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        # Summed over each comment's clauses: theme score x sentiment probabilities.
        totals = np.add.reduceat(part_themes[:, :, None] * part_sentiments[:, None, :], starts, axis=0)
        mixture[several] = totals / np.maximum(totals.sum(axis=2, keepdims=True), 1e-12)
    positive, negative = (mixture[:, :, SENTIMENTS.index(s)] for s in ("positive", "negative"))
    labels = np.where(positive >= negative, "positive", "negative").astype(object)
    labels[np.maximum(positive, negative) < POLAR_FLOOR] = "neutral"
    return labels


class Explainer:
    """Finds, for each theme a comment was given, the words that pushed its score up.

    Parameters
    ----------
    model : CommentModel
        A fitted model; its theme heads must be linear (they are logistic regressions).
    size : int
        The most words or phrases to give per theme.
    """

    def __init__(self, model, size: int = EVIDENCE_SIZE):
        self.model, self.size = model, size
        heads = [e.coef_.ravel() for e in model.themes_.estimators_]
        # The safeguarding head reads the same features (its question weights are 0), so its
        # words are found the same way.
        if model.safeguarding_ is not None:
            heads.append(model.safeguarding_.coef_.ravel())
        self.heads = THEME_IDS + ("safeguarding",) * (model.safeguarding_ is not None)
        self.weights = np.vstack(heads)
        names = model.features_.get_feature_names_out()
        block, term = np.char.partition(names.astype(str), ":")[:, [0, 2]].T
        self.block, self.term = block, term.astype(object)

    def evidence(self, texts, questions, themes) -> list[dict[str, tuple[str, ...]]]:
        """For each comment, its assigned theme ids mapped to their evidence, strongest first.

        ``themes`` is the 0/1 matrix of assigned heads, one column per name of ``heads`` (the
        five themes, then the safeguarding head where the model has one; fewer columns: the
        first heads); comments without any get ``{}``.
        """
        rows = np.flatnonzero(np.asarray(themes).any(axis=1))
        out = [{} for _ in range(len(themes))]
        if len(rows) == 0:
            return out
        texts = np.asarray(texts, dtype=object)
        kinds = question_kinds(None if questions is None else np.asarray(questions, dtype=object)[rows], len(rows))
        X = self.model.features_.transform(np.column_stack([texts[rows], kinds])).tocsr()
        for row, i in enumerate(rows):
            columns = X.indices[X.indptr[row] : X.indptr[row + 1]]
            values = X.data[X.indptr[row] : X.indptr[row + 1]]
            pieces = text_pieces(texts[i])
            words_of_pieces = [piece_words(piece) for piece in pieces]
            words = [w for ws in words_of_pieces for w in ws]
            for j in np.flatnonzero(themes[i]):
                credit = self.credit(pieces, words_of_pieces, columns, values * self.weights[j, columns])
                out[i][self.heads[j]] = _strongest(words, credit, self.size)
        return out

    def credit(self, pieces, piece_words, columns, contributions) -> dict[tuple[int, ...], float]:
        """Credit per word position (1-tuples) and per adjacent pair of positions (2-tuples).

        ``pieces`` are the comment's white-space separated pieces (what character n-grams are
        made of) and ``piece_words`` the words of each.
        """
        words = [w for ws in piece_words for w in ws]
        positions = defaultdict(list)
        for p, word in enumerate(words):
            positions[word].append(p)
        first_position = np.cumsum([0] + [len(ws) for ws in piece_words])
        holders = None  # char n-gram -> [(piece, times in it)], pieces in order
        credit = defaultdict(float)

        def share(amount, places):
            for p in places:
                credit[(p,)] += amount / len(places)

        for column, contribution in zip(columns, contributions):
            block, term = self.block[column], self.term[column]
            if block == "words":
                first, _, second = term.partition(" ")
                if not second:
                    share(contribution, positions[term])
                else:
                    pairs = [(p, p + 1) for p in positions[first] if words[p + 1 : p + 2] == [second]]
                    for pair in pairs:
                        credit[pair] += contribution / len(pairs)
            elif block == "chars":
                # An n-gram is shared by the pieces holding it, in proportion, then by their words.
                holders = holders if holders is not None else _ngram_holders(pieces)
                found = holders.get(term, ())
                total = sum(count for _, count in found)
                for k, count in found:
                    if piece_words[k]:
                        share(contribution * count / total, range(first_position[k], first_position[k + 1]))
            else:  # a question-crossed word, "kind|word"; the bare question kind names no word
                share(contribution, positions[term.partition("|")[2]])
        return credit


def _ngram_holders(pieces) -> dict[str, list[tuple[int, int]]]:
    """Each character n-gram of ``pieces`` with the pieces holding it and how often, in order."""
    holders = defaultdict(list)
    for k, piece in enumerate(pieces):
        for gram, count in Counter(char_ngrams(piece)).items():
            holders[gram].append((k, count))
    return holders


def _strongest(words, credit, size: int) -> tuple[str, ...]:
    """The ``size`` best-credited words, a pair's credit halved between its two; adjacent chosen
    words are joined into one phrase ("three hours"). Strongest first; only positive credit."""
    per_word = defaultdict(float)
    for key, value in credit.items():
        for p in key:
            per_word[p] += value / len(key)
    best = sorted((p for p in per_word if per_word[p] > 0), key=lambda p: (-per_word[p], p))[:size]
    phrases = []
    for p in sorted(best):
        if phrases and phrases[-1][-1] == p - 1:
            phrases[-1].append(p)
        else:
            phrases.append([p])
    phrases.sort(key=lambda ps: -max(per_word[p] for p in ps))
    return tuple(" ".join(words[p] for p in ps) for ps in phrases)
