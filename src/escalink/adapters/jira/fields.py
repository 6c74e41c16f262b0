"""Discovery of a project's issue types and create-screen fields, cached.

Custom field ids differ between Jira sites, so they are found BY NAME in the
create metadata (`GET .../issue/createmeta/{project}/issuetypes[/{id}]`), unless
an admin pins an id in Settings.jira_field_ids. Allowed values are kept so that a
value Jira would refuse is caught before anything is created.

Both response shapes are read: Cloud pages carry `issueTypes` / `fields`, Data
Center pages carry `values` and `isLast`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from escalink.adapters.http import VendorHTTP
from escalink.domain.errors import TrackerMisconfigured

PAGE_SIZE = 50
MAX_PAGES = 40  # 2000 fields on one screen is far beyond any real site; stops a looping server


def normalise_name(name: str) -> str:
    """Case- and punctuation-insensitive form: "Expected vs. Actual Result" == "expected vs actual result"."""
    return re.sub(r"[^0-9a-z]+", "", name.casefold())


@dataclass(frozen=True, slots=True)
class FieldMeta:
    """One field of a create screen, as createmeta describes it."""

    id: str
    name: str
    required: bool
    type: str | None  # schema.type: string, option, array, priority, user, ...
    custom: str | None  # schema.custom without its plugin prefix: textfield, textarea, select, ...
    items: str | None  # schema.items for arrays: option, string, ...
    allowed_values: tuple[str, ...] = ()  # option `value`s, or `name`s for priorities and the like

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], fallback_id: str = "") -> FieldMeta:
        schema = raw.get("schema") or {}
        custom = schema.get("custom")
        allowed = []
        for value in raw.get("allowedValues") or []:
            if isinstance(value, dict):
                label = value.get("value", value.get("name"))
                if label is not None and not value.get("disabled", False):
                    allowed.append(str(label))
            elif isinstance(value, str):
                allowed.append(value)
        return cls(
            # Cloud and DC pages name the id `fieldId`; the older shape keys fields by id.
            id=str(raw.get("fieldId") or raw.get("key") or fallback_id),
            name=str(raw.get("name") or ""),
            required=bool(raw.get("required", False)),
            type=schema.get("type"),
            custom=custom.rsplit(":", 1)[-1] if isinstance(custom, str) else None,
            items=schema.get("items"),
            allowed_values=tuple(allowed),
        )

    def match_allowed(self, value: str) -> str | None:
        """Jira's own spelling of `value` among the allowed values, or None if it is not offered."""
        if value in self.allowed_values:
            return value
        wanted = normalise_name(value)
        matches = [v for v in self.allowed_values if normalise_name(v) == wanted]
        return matches[0] if len(matches) == 1 else None


@dataclass(frozen=True, slots=True)
class IssueTypeMeta:
    """An issue type of the project with the fields of its create screen, by field id."""

    id: str
    name: str
    fields: Mapping[str, FieldMeta] = field(default_factory=dict)

    def by_name(self, name: str) -> FieldMeta | None:
        """The field with this display name: exact match first, then case/punctuation-insensitive."""
        exact = [f for f in self.fields.values() if f.name == name]
        if len(exact) == 1:
            return exact[0]
        loose = [f for f in self.fields.values() if normalise_name(f.name) == normalise_name(name)]
        if len(loose) > 1 or len(exact) > 1:
            ids = ", ".join(sorted(f.id for f in (exact or loose)))
            raise TrackerMisconfigured(
                f'Jira has several fields named "{name}" on the {self.name} create screen ({ids}): '
                "ask an admin to pin the right one in ESCALINK_JIRA_FIELD_IDS.",
                vendor="jira",
            )
        return loose[0] if loose else None


class TTLCache:
    """A tiny thread-safe cache; entries expire `ttl` seconds after they were stored."""

    def __init__(self, ttl: float, monotonic: Callable[[], float]) -> None:
        self._ttl, self._now = ttl, monotonic
        self._data: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get_or_load(
        self, key: Any, load: Callable[[], Any], ttl_for: Callable[[Any], float] | None = None
    ) -> Any:
        """The cached value, or `load()`'s, kept for `ttl_for(value)` seconds (default: the cache's TTL)."""
        with self._lock:
            hit = self._data.get(key)
            if hit is not None and hit[0] > self._now():
                return hit[1]
        value = load()  # outside the lock: a slow vendor must not block other keys
        with self._lock:
            self._data[key] = (self._now() + (self._ttl if ttl_for is None else ttl_for(value)), value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


class FieldCatalog:
    """Cached create metadata of Jira projects, and the policy's custom fields within it.

    `field_names` maps policy keys (member_uuid, severity, ...) to display names;
    `field_ids` pins ids for some keys and wins over discovery by name.
    """

    def __init__(
        self,
        http: VendorHTTP,
        api_prefix: str,
        *,
        field_names: Mapping[str, str],
        field_ids: Mapping[str, str] | None = None,
        cache_seconds: float = 3600.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._prefix = api_prefix.rstrip("/")
        self.field_names = dict(field_names)
        self.field_ids = dict(field_ids or {})
        self._cache = TTLCache(cache_seconds, monotonic)

    def clear(self) -> None:
        self._cache.clear()

    def issue_types(self, project_key: str) -> dict[str, tuple[str, str]]:
        """Normalised issue type name -> (id, name) for the project."""
        return self._cache.get_or_load(("types", project_key), lambda: self._load_types(project_key))  # type: ignore[no-any-return]

    def issue_type(self, project_key: str, issue_type_name: str) -> IssueTypeMeta:
        """The issue type and its create-screen fields; TrackerMisconfigured if the project lacks it."""
        types = self.issue_types(project_key)
        found = types.get(normalise_name(issue_type_name))
        if found is None:
            offered = ", ".join(sorted(name for _, name in types.values())) or "none"
            raise TrackerMisconfigured(
                f'Jira project {project_key} has no issue type "{issue_type_name}" that Escalink can '
                f"create (offered: {offered}): ask an admin to add it to the project.",
                vendor="jira",
            )
        type_id, name = found
        fields = self._cache.get_or_load(
            ("fields", project_key, type_id), lambda: self._load_fields(project_key, type_id)
        )
        return IssueTypeMeta(id=type_id, name=name, fields=fields)

    def resolve(self, meta: IssueTypeMeta, key: str) -> FieldMeta | None:
        """The field for a policy key on this screen: the pinned id if set, else by display name."""
        pinned = self.field_ids.get(key)
        if pinned:
            return meta.fields.get(pinned)
        name = self.field_names.get(key)
        return meta.by_name(name) if name else None

    def display_name(self, key: str) -> str:
        return self.field_names.get(key) or key

    def _load_types(self, project_key: str) -> dict[str, tuple[str, str]]:
        path = f"{self._prefix}/issue/createmeta/{project_key}/issuetypes"
        types: dict[str, tuple[str, str]] = {}
        for raw in self._pages(path, ("issueTypes", "values", "createMetaIssueType")):
            if raw.get("subtask"):
                continue  # sub-tasks need a parent; never an escalation
            types[normalise_name(str(raw.get("name", "")))] = (str(raw["id"]), str(raw.get("name", "")))
        return types

    def _load_fields(self, project_key: str, type_id: str) -> dict[str, FieldMeta]:
        path = f"{self._prefix}/issue/createmeta/{project_key}/issuetypes/{type_id}"
        metas = (FieldMeta.from_json(raw) for raw in self._pages(path, ("fields", "values", "results")))
        return {m.id: m for m in metas if m.id}

    def _pages(self, path: str, item_keys: tuple[str, ...]) -> Iterator[dict[str, Any]]:
        start = 0
        for _ in range(MAX_PAGES):
            body = self._http.get_json(path, params={"startAt": start, "maxResults": PAGE_SIZE})
            items: list[Any] = []
            if isinstance(body, dict):
                items = next((body[k] for k in item_keys if isinstance(body.get(k), list)), [])
            yield from (item for item in items if isinstance(item, dict))
            start += len(items)
            total = body.get("total") if isinstance(body, dict) else None
            if (
                not items
                or (isinstance(body, dict) and body.get("isLast") is True)
                or (isinstance(total, int) and start >= total)
            ):
                return
