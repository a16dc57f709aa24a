"""Tags of jobs, kept in the job's description (the service has no tags of its own).

The description's last line holds them, ``tags: #chem #run-7``, under the user's own
description, which stays first and readable. Each tag is ``#``-prefixed so that the
service's ``q`` search (a substring of the id, name or description) finds ``#run-7``; as it
also finds ``#run-70``, listing by tags checks them exactly on the client. The reserved words
and limits are in :mod:`quri_parts_oqtopus._contract`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from quri_parts_oqtopus._contract import (
    MAX_TAG_LENGTH,
    MAX_TAGS,
    TAG_CHARACTERS,
    TAG_MARK,
    TAGS_LINE_PREFIX,
)
from quri_parts_oqtopus.backend.errors import OqtopusInvalidArgumentError

__all__ = [
    "check_tags",
    "description_with_tags",
    "has_tags",
    "search_term",
    "tags_keyword",
    "tags_of",
    "with_tags",
]

_TAG = re.compile(f"[A-Za-z0-9{re.escape(TAG_CHARACTERS)}]{{1,{MAX_TAG_LENGTH}}}")


def check_tags(tags: Iterable[str] | None) -> tuple[str, ...]:
    """The tags, checked, each once, in the order given (``()`` for None).

    Raises:
        ValueError: (also a ``BackendError``) If ``tags`` is one string rather than a
            list of them, or a tag is not a string, is empty, longer than 64 characters or
            holds a character other than ASCII letters, digits and ``-_.:/+=@``, or there
            are more than 16; the message names the tag and the reason.

    """
    if tags is None:
        return ()
    if isinstance(tags, (str, bytes)):
        raise OqtopusInvalidArgumentError(
            f"tags should be a list of strings, not one string: {tags!r:.80}"
        )
    checked: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise OqtopusInvalidArgumentError(f"a tag should be a string: {tag!r:.80}")
        if len(tag) > MAX_TAG_LENGTH:
            raise OqtopusInvalidArgumentError(
                f"a tag is at most {MAX_TAG_LENGTH} characters: {tag!r:.80} has {len(tag)}"
            )
        if not _TAG.fullmatch(tag):
            raise OqtopusInvalidArgumentError(
                "a tag holds ASCII letters, digits and "
                f"{TAG_CHARACTERS!r} only, and at least one of them: {tag!r}"
            )
        if tag not in checked:
            checked.append(tag)
    if len(checked) > MAX_TAGS:
        raise OqtopusInvalidArgumentError(
            f"a job has at most {MAX_TAGS} tags: {len(checked)} given ({checked[MAX_TAGS]!r}, ...)"
        )
    return tuple(checked)


def description_with_tags(description: str | None, tags: tuple[str, ...]) -> str | None:
    """The description to send: the user's, then (when there are tags) the tags line."""
    if not tags:
        return description
    line = TAGS_LINE_PREFIX + " ".join(TAG_MARK + tag for tag in tags)
    return f"{description}\n{line}" if description else line


def tags_of(description: str | None) -> tuple[str, ...]:
    """The tags a description's last line holds (``()`` when it holds none)."""
    if not description:
        return ()
    last = description.rsplit("\n", 1)[-1]
    if not last.startswith(TAGS_LINE_PREFIX):
        return ()
    words = last[len(TAGS_LINE_PREFIX) :].split(" ")
    if len(words) > MAX_TAGS:
        return ()  # more than a submission writes: not our line
    tags = tuple(word[len(TAG_MARK) :] for word in words)
    if all(
        word.startswith(TAG_MARK) and _TAG.fullmatch(tag)
        for word, tag in zip(words, tags, strict=True)
    ):
        return tuple(dict.fromkeys(tags))  # each once, as a submission writes them
    return ()  # a line the user wrote that only looks like ours


def has_tags(description: str | None, wanted: tuple[str, ...]) -> bool:
    """Whether the description holds every tag of ``wanted`` (exactly, not as a prefix)."""
    return set(wanted) <= set(tags_of(description))


def search_term(tag: str) -> str:
    """What the service's ``q`` search looks for to find a tag (it may also find longer ones)."""
    return TAG_MARK + tag


def tags_keyword(tags: Iterable[str] | None) -> dict[str, Any]:
    """``tags=`` for a call that passes a user's tags on, only when given: a subclass's
    ``sample_qasm`` or ``estimate_qasm`` may keep the reference's signature, without it."""
    return {} if tags is None else {"tags": tags}


def with_tags(job_options: Mapping[str, Any], tags: Iterable[str] | None) -> dict[str, Any]:
    """A factory's job options with its ``tags``, checked now (when the factory is made).

    Raises:
        ValueError: (also a ``BackendError``) If a tag is refused (see :func:`check_tags`).

    """
    checked = check_tags(tags)
    return {**job_options, "tags": checked} if checked else dict(job_options)
