"""Side effects and idempotency guards (CEL405), in one place that rules, tests and documents share.

Each entry is a predicate over a `CallSite` (a call in a task body, as text) and the words a
message uses for it. A side effect is a call that changes the world in a way that repeats when
the task runs again; a guard is a call that makes running again harmless (or impossible).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..facts.task_body import CallSite

Predicate = Callable[[CallSite], bool]


def _method(site: CallSite) -> str:
    return site.name.rsplit(".", 1)[-1]


def _receiver(site: CallSite) -> str:
    return site.name.rsplit(".", 1)[0].lower() if "." in site.name else ""


def _http_client(site: CallSite) -> bool:
    root = (site.qualified or "").split(".")[0]
    return root in ("requests", "httpx") or any(w in _receiver(site) for w in ("session", "client", "http"))


MAIL_FUNCTIONS = {
    "django.core.mail.send_mail",
    "django.core.mail.send_mass_mail",
    "django.core.mail.mail_admins",
    "django.core.mail.mail_managers",
    "post_office.mail.send",
    "flask_mail.Mail.send",
}

# (what it is, predicate): calls whose effect repeats on every run.
SIDE_EFFECTS: list[tuple[str, Predicate]] = [
    ("an HTTP POST/PATCH", lambda s: _method(s) in ("post", "patch") and _http_client(s)),
    (
        "a row insert",
        lambda s: ".objects." in f"{s.name}." and _method(s) in ("create", "bulk_create")
        and s.keywords.get("ignore_conflicts") is not True and s.keywords.get("update_conflicts") is not True,
    ),
    ("a save of a new object", lambda s: s.new_object and _method(s) == "save"),
    ("an email", lambda s: (s.qualified or "") in MAIL_FUNCTIONS),
    ("an email", lambda s: _method(s) in ("send_email", "send_raw_email", "send_templated_email")),
    ("an email", lambda s: s.new_object and _method(s) == "send"),
    ("a message", lambda s: s.name.endswith((".messages.create", ".chat_postMessage"))),
    (
        "a payment",
        lambda s: (s.qualified or "").startswith("stripe.") and _method(s) in ("create", "capture", "confirm", "pay"),
    ),
    (
        "an SQL INSERT",
        lambda s: _method(s) in ("execute", "executemany")
        and any(t.lstrip().lower().startswith("insert into") for t in s.strings),
    ),
]

# (what it is, predicate): calls that make a repeated run harmless.
GUARDS: list[tuple[str, Predicate]] = [
    ("get_or_create/update_or_create", lambda s: _method(s) in ("get_or_create", "update_or_create")),
    ("select_for_update", lambda s: _method(s) == "select_for_update"),
    ("a lock", lambda s: _method(s) in ("lock", "acquire") or (s.qualified or "").endswith(".Lock")),
    ("cache.add", lambda s: _method(s) == "add" and "cache" in _receiver(s)),
    ("SET NX", lambda s: (_method(s) == "set" and s.keywords.get("nx") is True) or _method(s) == "setnx"),
    ("an idempotency key", lambda s: any("idempotency" in k.lower() for k in s.keywords)),
    ("an idempotency key", lambda s: any("idempotency-key" in t.lower() or "idempotency_key" in t.lower() for t in s.strings)),
    ("ON CONFLICT", lambda s: any("on conflict" in t.lower() for t in s.strings)),
]

# Base classes that de-duplicate task runs.
DEDUPLICATING_BASES = ("QueueOnce", "Singleton")


def classify(site: CallSite, table: Iterable[tuple[str, Predicate]]) -> str | None:
    for what, predicate in table:
        if predicate(site):
            return what
    return None


def side_effect(site: CallSite) -> str | None:
    return classify(site, SIDE_EFFECTS)


def guard(site: CallSite) -> str | None:
    return classify(site, GUARDS)
