"""Answers from what the store already has: Shopify's policies and pages, Saleor's pages.

The platform adapters fetch the records; this keeps the shop's imported answers in step
with them and says what a re-import changed. Imported answers are keyed by (source,
source id, language): a page whose title or text changed is updated (the merchant's
extra phrasings and on/off switch are kept), a page gone from the store is removed,
one that did not change is left as it was. Answers the merchant wrote are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.answers.plain_text import plain_text, safe_link
from app.answers.store import MAX_ANSWER, MAX_QUESTION, SOURCES
from app.errors import ParleyError
from app.models import Answer

_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_SENTENCE_END = re.compile(r"[.!?。]\s")


@dataclass(frozen=True)
class ImportRecord:
    """One policy or page as the platform gives it: `body` may be HTML."""

    source: str  # shopify_policy, shopify_page, saleor_page
    source_id: str
    language: str
    title: str
    body: str
    # Where the shopper reads all of it (a Shopify policy's page): kept under the answer.
    url: str | None = None


@dataclass
class ImportReport:
    """What a (re-)import did, by the titles a merchant recognises."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # (title or source id, why): a page with no text, one named twice, one cut short.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    shortened: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "skipped": [{"title": title, "reason": reason} for title, reason in self.skipped],
            "shortened": self.shortened,
        }


def _shortened(text: str, limit: int = MAX_ANSWER) -> str:
    # A long policy (terms of service) is cut at a sentence end before the limit; the
    # merchant sees it listed as shortened and can edit it.
    cut = text[: limit - 1]
    ends = [found.end() for found in _SENTENCE_END.finditer(cut)]
    return (cut[: ends[-1]].rstrip() if ends and ends[-1] > limit // 2 else cut.rstrip()) + "…"


def import_answers(
    session: Session,
    shop_id: int,
    records: Sequence[ImportRecord],
    now: datetime,
    *,
    sources: Iterable[str] | None = None,
    language: str | None = None,
) -> ImportReport:
    """Bring the shop's imported answers from `sources` (default: those the records come
    from) in line with `records`, in the caller's transaction. With `language`, only the
    answers imported in that language are compared (an import in Estonian leaves the
    English ones as they are)."""
    covered = set(sources) if sources is not None else {record.source for record in records}
    unknown = sorted(covered - set(SOURCES[1:]))
    if unknown:
        raise ParleyError(400, "invalid_source", f"Answers cannot be imported from {', '.join(unknown)}")
    report = ImportReport()
    existing = {
        (answer.source, answer.source_id, answer.language): answer
        for answer in session.exec(
            select(Answer).where(
                Answer.shop_id == shop_id,
                col(Answer.source).in_(sorted(covered)),
                *([Answer.language == language] if language is not None else []),
            )
        ).all()
    }
    seen: set[tuple[str, str | None, str]] = set()
    for record in records:
        name = " ".join(plain_text(record.title).split())[:MAX_QUESTION] or record.source_id
        language = record.language.strip().lower()
        key = (record.source, record.source_id, language)
        if record.source not in covered:
            report.skipped.append((name, f"comes from {record.source}, which this import does not cover"))
            continue
        if not record.source_id or len(record.source_id) > 255 or not _LANGUAGE.match(language):
            report.skipped.append((name, "has no usable id or language"))
            continue
        if key in seen:
            report.skipped.append((name, "is listed twice"))
            continue
        body = plain_text(record.body)
        if not body or not name:
            # An emptied policy is no answer any more: left out of `seen`, it is removed below.
            report.skipped.append((name or record.source_id, "has no text"))
            continue
        seen.add(key)
        link = safe_link(record.url or "")
        suffix = f"\n\n{link}" if link and link not in body else ""
        if len(body) + len(suffix) > MAX_ANSWER:
            body = _shortened(body, MAX_ANSWER - len(suffix))
            report.shortened.append(name)
        body += suffix
        answer = existing.get(key)
        if answer is None:
            session.add(
                Answer(
                    shop_id=shop_id,
                    language=language,
                    question=name,
                    alternatives=[],
                    answer=body,
                    source=record.source,
                    source_id=record.source_id,
                    created_at=now,
                    updated_at=now,
                )
            )
            report.added.append(name)
        elif answer.question != name or answer.answer != body:
            answer.question, answer.answer, answer.updated_at = name, body, now
            session.add(answer)
            report.updated.append(name)
        else:
            report.unchanged.append(name)
    for held, gone in existing.items():
        if held not in seen:
            report.removed.append(gone.question)
            session.delete(gone)
    session.flush()
    return report
