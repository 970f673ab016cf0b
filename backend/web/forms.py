"""What the fronts' forms share: numbers as people type them, and the API's errors turned into
French messages placed beside the field concerned (never a raw code, never the API's English)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

GENERAL = "Votre envoi n'a pas pu être enregistré : vérifiez le formulaire et réessayez."
CONFLICT = "Ce formulaire a déjà été envoyé avec d'autres valeurs : rechargez la page et recommencez."
TOO_LARGE = "L'envoi est trop lourd : choisissez des photos de 15 Mo au plus, une vidéo de 50 Mo au plus."


def number(text: str) -> Any:
    """A number typed in a field (a French decimal comma, spaces between thousands); the text
    itself when it is none, for the intake to refuse on its field."""
    cleaned = text.replace(",", ".").replace("\u202f", "").replace("\u00a0", "").replace(" ", "")
    try:
        value = float(cleaned)
    except ValueError:
        return text
    if not math.isfinite(value):
        return text
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def french_errors(
    errors: dict[str, Any],
    place: Callable[[tuple[str, ...], str], tuple[str, str] | None],
    *,
    status: int = 422,
) -> dict[str, str]:
    """The intake's ``errors`` (``{"json": {"field": ["…"]}}``, ``{"files": …}``) as French
    messages by form field. ``place(path, message)`` says which field an error at ``path`` (its
    English ``message``) belongs to and what to tell in French; None leaves it to the general
    message. A 409 is a form sent twice with other values; a 413 a body too large."""
    found: dict[str, str] = {}

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict) and node:
            for key, child in node.items():
                walk(child, (*path, str(key)))
            return
        messages = node if isinstance(node, list) else [node]
        for message in messages:
            if isinstance(message, dict):
                walk(message, path)
                continue
            placed = place(path, str(message))
            if placed is None:
                found.setdefault("formulaire", GENERAL)
            else:
                found.setdefault(placed[0], placed[1])

    walk(errors, ())
    if status == 409:
        found["formulaire"] = CONFLICT
    if status == 413:
        found["formulaire"] = TOO_LARGE
    return found or {"formulaire": GENERAL}
