"""The assistant against the labelled evaluation set, and the speed of one match.

**Evaluation** (tests/data/answers/<lang>.json): for each of en, et, he, ar, pl, ru a
small shop's answer list and 51–52 shoppers' questions, each labelled with the answer it
must get (one, or two when both answer it) or "handover". Every question goes through
`decide` as the widget's would after hours with the bot on. Per language:

- answered correctly / answered wrongly (a wrong answer, or an answer where a handover
  was due): `correct_pct` is of the answerable questions, `wrong_pct` of all questions;
- handed over correctly / handed over needlessly (an answerable question handed over).

Goals: wrong ≤ 2 % and correct ≥ 80 % in every language. `thresholds` shows both
figures at other thresholds, the evidence for the one chosen (decide.THRESHOLD).
`leave_one_language_out` recalibrates on five languages and measures the sixth, so the
confidence is not only right on the questions it was fitted on. `reliability` groups
the answers by confidence: calibrated means each group is right about as often as its
confidence says.

**Speed**: one question matched against 1,000 answers by the fitted matcher (median and
p99 over the evaluation questions), beside a baseline measured in the same run: the
least any TF-IDF matcher must do, vectorizing the question and one sparse product with
the same 1,000 answers' rows (scikit-learn's own `transform`, which the matcher replaces
by the same arithmetic without its per-call input checks). Fitting 1,000 answers is timed too (it happens once per edit of a
shop's list, not per question), and so is `Assistant.reply` end to end on SQLite
(read the list, fingerprint it, reuse the fitted matcher, decide).

`python -m bench.answers` prints the table and then the JSON; `--calibrate` prints the
logistic fit to paste into matcher.CALIBRATION.
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.answers.decide import THRESHOLD, Action, decide
from app.answers.intents import detect
from app.answers.matcher import CALIBRATION, AnswerText, TfidfMatcher, calibrated

LANGUAGES = ("en", "et", "he", "ar", "pl", "ru")
DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "answers"
GOAL_WRONG_PCT = 2.0
GOAL_CORRECT_PCT = 80.0


def load(language: str) -> dict[str, Any]:
    return json.loads((DATA / f"{language}.json").read_text(encoding="utf-8"))


def answer_texts(data: dict[str, Any]) -> list[AnswerText]:
    return [
        AnswerText(item["id"], item["question"], item["answer"], tuple(item.get("alternatives", ())))
        for item in data["answers"]
    ]


def expected(question: dict[str, Any]) -> set[str]:
    value = question["expect"]
    return {value} if isinstance(value, str) else set(value)


@dataclass
class Figures:
    language: str
    questions: int = 0
    answerable: int = 0
    answered_correctly: int = 0
    answered_wrongly: int = 0
    handed_over_correctly: int = 0
    handed_over_needlessly: int = 0
    mistakes: list[str] = field(default_factory=list)

    @property
    def correct_pct(self) -> float:
        return 100.0 * self.answered_correctly / self.answerable if self.answerable else 0.0

    @property
    def wrong_pct(self) -> float:
        return 100.0 * self.answered_wrongly / self.questions if self.questions else 0.0

    @property
    def meets_goals(self) -> bool:
        return self.wrong_pct <= GOAL_WRONG_PCT and self.correct_pct >= GOAL_CORRECT_PCT

    def as_json(self) -> dict[str, Any]:
        return {
            **{key: value for key, value in asdict(self).items() if key != "mistakes"},
            "correct_pct": round(self.correct_pct, 1),
            "wrong_pct": round(self.wrong_pct, 1),
            "meets_goals": self.meets_goals,
        }


def evaluate(language: str, threshold: float = THRESHOLD, weights: dict[str, float] | None = None) -> Figures:
    """The figures for one language, through `decide` (bot always on, team out)."""
    data = load(language)
    answers = answer_texts(data)
    matcher = TfidfMatcher()
    matcher.fit(answers, language)
    figures = Figures(language)
    for question in data["questions"]:
        want = expected(question)
        handover_due = want == {"handover"}
        figures.questions += 1
        figures.answerable += not handover_due
        decision = decide(
            question["text"],
            answers,
            team_in=False,
            mode="always",
            language=language,
            matcher=matcher,
            threshold=threshold,
        )
        answered = decision.action is Action.answer
        if weights is not None and decision.confidence is not None:
            # Recalibrated: the same match, judged by another confidence.
            found = matcher.match(question["text"])
            answered = found is not None and calibrated(found.score, found.runner_up, weights) >= threshold
        if answered and decision.answer_id in want:
            figures.answered_correctly += 1
        elif answered:
            figures.answered_wrongly += 1
            figures.mistakes.append(f"answered {decision.answer_id}: {question['text']}")
        elif handover_due:
            figures.handed_over_correctly += 1
        else:
            figures.handed_over_needlessly += 1
            figures.mistakes.append(f"handed over ({decision.reason}): {question['text']}")
    return figures


def _scored(language: str) -> list[tuple[float, float, bool]]:
    """(score, runner-up, right) for each question that reaches the matcher."""
    data = load(language)
    matcher = TfidfMatcher()
    matcher.fit(answer_texts(data), language)
    rows = []
    for question in data["questions"]:
        if detect(question["text"]).any:
            continue
        found = matcher.match(question["text"])
        if found is not None:
            rows.append((found.score, found.runner_up, found.answer_id in expected(question)))
    return rows


def fit_calibration(rows: Sequence[tuple[float, float, bool]]) -> dict[str, float]:
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

    features = [[score, score - runner_up] for score, runner_up, _ in rows]
    model = LogisticRegression(C=100.0).fit(features, [right for _, _, right in rows])
    return {
        "bias": round(float(model.intercept_[0]), 2),
        "score": round(float(model.coef_[0][0]), 2),
        "lead": round(float(model.coef_[0][1]), 2),
    }


def reliability(rows: Sequence[tuple[float, float, bool]]) -> list[dict[str, Any]]:
    edges = (0.0, 0.25, 0.5, 0.75, 0.9, 1.01)
    out = []
    for low, high in itertools.pairwise(edges):
        group = [right for score, runner_up, right in rows if low <= calibrated(score, runner_up) < high]
        out.append(
            {
                "confidence": f"{low:.2f}–{min(high, 1.0):.2f}",
                "questions": len(group),
                "right_pct": round(100.0 * sum(group) / len(group), 1) if group else None,
            }
        )
    return out


# -- speed -------------------------------------------------------------------------------------


def thousand_answers() -> list[AnswerText]:
    """1,000 answers: every language's list, each answer repeated with its own product and
    number, so the vocabulary grows as a big shop's would."""
    base = [answer for language in LANGUAGES for answer in answer_texts(load(language))]
    out = []
    for number in range(1000):
        answer = base[number % len(base)]
        product = f"{answer.question.split()[-1].strip('?')}{number}"
        out.append(
            AnswerText(
                number,
                f"{answer.question} {product}",
                f"{answer.answer} ({product}, {number * 7919 % 10007})",
                tuple(f"{alternative} {number}" for alternative in answer.alternatives),
            )
        )
    return out


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def speed(repeats: int = 5) -> dict[str, Any]:
    answers = thousand_answers()
    questions = [question["text"] for language in LANGUAGES for question in load(language)["questions"]]
    started = time.perf_counter()
    matcher = TfidfMatcher()
    matcher.fit(answers, "en")
    fit_ms = (time.perf_counter() - started) * 1000
    index = matcher._index
    assert index is not None
    for question in questions[:20]:  # warm up
        matcher.match(question)
    matched, baseline = [], []
    for _ in range(repeats):
        for question in questions:
            started = time.perf_counter()
            matcher.match(question)
            matched.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            query = index.chars.vectorizer.transform([question])
            (index.chars.matrix @ query.T).toarray()
            baseline.append((time.perf_counter() - started) * 1000)
    return {
        "answers": len(answers),
        "fit_ms": round(fit_ms, 1),
        "match_p50_ms": round(statistics.median(matched), 3),
        "match_p99_ms": round(_percentile(matched, 0.99), 3),
        "baseline_p50_ms": round(statistics.median(baseline), 3),
        "match_to_baseline_p50_ratio": round(statistics.median(matched) / statistics.median(baseline), 2),
        **_reply_on_sqlite(answers, questions),
    }


def _reply_on_sqlite(answers: Sequence[AnswerText], questions: Sequence[str]) -> dict[str, Any]:
    """Assistant.reply end to end, 1,000 answers stored in SQLite, matcher cached."""
    from sqlmodel import SQLModel

    import app.models  # noqa: F401  (the tables)
    from app.answers.assistant import Assistant
    from app.clock import utcnow
    from app.db import Database, make_engine
    from app.models import Answer, Shop

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/answers.db")
        SQLModel.metadata.create_all(engine)
        db = Database(engine)
        with db.transaction() as session:
            shop = Shop(domain="bench.myshopify.com")
            session.add(shop)
            session.flush()
            assert shop.id is not None
            shop_id = shop.id
            now = utcnow()
            for answer in answers:
                session.add(
                    Answer(
                        shop_id=shop_id,
                        language="en",
                        question=answer.question,
                        alternatives=list(answer.alternatives),
                        answer=answer.answer,
                        created_at=now,
                        updated_at=now,
                    )
                )
        assistant = Assistant()
        timings = []
        with db.session() as session:
            assistant.reply(session, shop_id, questions[0], "en", team_in=False, mode="always")  # fits once
            for question in questions:
                started = time.perf_counter()
                assistant.reply(session, shop_id, question, "en", team_in=False, mode="always")
                timings.append((time.perf_counter() - started) * 1000)
        engine.dispose()
    return {
        "reply_sqlite_p50_ms": round(statistics.median(timings), 2),
        "reply_sqlite_p99_ms": round(_percentile(timings, 0.99), 2),
    }


# -- the report --------------------------------------------------------------------------------


def run() -> dict[str, Any]:
    figures = [evaluate(language) for language in LANGUAGES]
    rows = {language: _scored(language) for language in LANGUAGES}
    everything = [row for language in LANGUAGES for row in rows[language]]
    sweep = []
    for step in range(10, 20):
        threshold = step / 20
        at = [evaluate(language, threshold) for language in LANGUAGES]
        sweep.append(
            {
                "threshold": threshold,
                "min_correct_pct": round(min(f.correct_pct for f in at), 1),
                "max_wrong_pct": round(max(f.wrong_pct for f in at), 1),
                "meets_goals": all(f.meets_goals for f in at),
            }
        )
    held_out = {}
    for language in LANGUAGES:
        weights = fit_calibration([row for other in LANGUAGES if other != language for row in rows[other]])
        held_out[language] = evaluate(language, THRESHOLD, weights).as_json()
    return {
        "threshold": THRESHOLD,
        "calibration": CALIBRATION,
        "languages": {f.language: f.as_json() for f in figures},
        "meets_goals": all(f.meets_goals for f in figures),
        "mistakes": {f.language: f.mistakes for f in figures},
        "thresholds": sweep,
        "leave_one_language_out": held_out,
        "reliability": reliability(everything),
        "speed": speed(),
    }


def _table(results: dict[str, Any]) -> str:
    lines = [
        f"threshold {results['threshold']}",
        f"{'lang':<5}{'questions':>10}{'answerable':>11}{'correct':>9}{'wrong':>7}{'ho ok':>7}{'ho needless':>12}"
        f"{'correct %':>11}{'wrong %':>9}",
    ]
    for language, row in results["languages"].items():
        lines.append(
            f"{language:<5}{row['questions']:>10}{row['answerable']:>11}{row['answered_correctly']:>9}"
            f"{row['answered_wrongly']:>7}{row['handed_over_correctly']:>7}{row['handed_over_needlessly']:>12}"
            f"{row['correct_pct']:>11}{row['wrong_pct']:>9}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] = ()) -> int:
    if "--calibrate" in argv:
        rows = [row for language in LANGUAGES for row in _scored(language)]
        print(json.dumps(fit_calibration(rows)))
        return 0
    results = run()
    print(_table(results), file=sys.stderr)
    json.dump(results, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
