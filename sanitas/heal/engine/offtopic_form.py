"""The surface form of a text, which a sentence embedding does not see.

The embedding model is uncased and reads tokens, not typography: "What's the weather in Paris?" and
"whats the weather in paris" get nearly the same vector. Rows that reached a dataset from another
source (another product's queries, another corpus) usually carry that source's form as well as its
topic: its casing, its punctuation, its length. The off-topic check's foreign-region classifier
(``offtopic_topics.foreign_topic_probability``) learns from the rows already found what the foreign
rows look like; these features let it learn their form too. No feature names a word: each is a
generic measure of typography, and which of them matter, and which way, is learnt per dataset.
"""

from __future__ import annotations

import math

import numpy as np

# A standardised feature beyond this many standard deviations is clipped: one rare form (a text in
# capitals) must not outweigh the whole embedding.
FORM_CLIP = 5.0
# Weight of one standardised form feature beside the unit-norm embedding (one of its 384 dimensions
# spreads ~0.05): the seven features together weigh about half the embedding (0.2 * sqrt(7) ~ 0.53).
FORM_WEIGHT = 0.2


def _form(text: str) -> list[float]:
    letters = [c for c in text if c.isalpha()]
    stripped = text.strip()
    n = max(len(text), 1)
    return [
        sum(c.isupper() for c in letters) / max(len(letters), 1),  # share of capitals
        float(stripped[:1].isupper()),  # starts with a capital
        float(stripped[-1:] in ".?!"),  # ends like a sentence
        float("?" in text),  # asks a question with a question mark
        sum(not c.isalnum() and not c.isspace() for c in text) / n,  # punctuation density
        math.log1p(len(text.split())),  # length in words
        sum(c.isdigit() for c in text) / n,  # digit density
    ]


def form_features(texts: list[str]) -> np.ndarray:
    """Each text's form features standardised over the dataset, clipped, times ``FORM_WEIGHT``.

    Standardised over every row, not the dataset's vouched rows alone: a form no vouched row has
    (capitals in an all-lower-case dataset) is the most telling one, not a constant to drop. A
    feature constant over the dataset carries no information and is zeroed.
    """
    f = np.array([_form(t) for t in texts], dtype=np.float64).reshape(len(texts), -1)
    if not len(f):
        return f
    mean, std = f.mean(axis=0), f.std(axis=0)
    z = np.where(std > 1e-9, (f - mean) / np.maximum(std, 1e-9), 0.0)
    return np.asarray(FORM_WEIGHT * np.clip(z, -FORM_CLIP, FORM_CLIP))
