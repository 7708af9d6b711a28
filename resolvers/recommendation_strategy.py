"""How candidates are ranked for recommendations: one swappable strategy (the default in
CommercePolicy), fed with signals read from the unified purchase history."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Signals:
    bought_together: list[tuple[int, int, int]]  # (seed product, other product, orders with both)
    affinity: dict[str, int]  # category -> units the member bought there
    popular: list[tuple[int, str, int]]  # (product, category, orders), most ordered first


class RecommendationStrategy(Protocol):
    def rank(self, signals: Signals, exclude: set[int]) -> list[int]:
        """Candidate product ids, best first (availability is checked afterwards)."""
        ...


class BoughtTogetherThenAffinity:
    """Each order a candidate shares with a seed counts 3; each unit the member bought in the
    candidate's category counts 1 per order the candidate is in (so a favourite category lifts
    its best sellers)."""

    def rank(self, signals: Signals, exclude: set[int]) -> list[int]:
        score: Counter[int] = Counter()
        for _, other, together in signals.bought_together:
            score[other] += 3 * together
        for product, category, orders in signals.popular:
            # += creates the entry: a best seller stays a candidate without any other signal.
            score[product] += signals.affinity.get(category, 0) * orders
        return sorted((p for p in score if p not in exclude), key=lambda p: (-score[p], p))
