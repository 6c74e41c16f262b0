"""Cut the operations the sandbox emulates out of the vendors' official OpenAPI specs.

Reads the full specs from ../shared/reference/openapi/ (beside the checkout) and writes
src/escalink/sandbox/specs/{zendesk,jira-cloud,jira-dc}.json: only the listed operations plus
every component they reference, transitively, with an `x-provenance` block naming the
source, the licence and every patch applied.

Usage:  python tools/extract_spec_subset.py [--shared PATH]
"""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "src" / "escalink" / "sandbox" / "specs"

ZENDESK_OPS: dict[str, list[str]] = {
    "/api/v2/tickets/{ticket_id}": ["get", "put"],
    "/api/v2/tickets/{ticket_id}/comments": ["get"],
    "/api/v2/uploads": ["post"],
    "/api/v2/users/me": ["get"],
    "/api/v2/users/{user_id}": ["get"],
    "/api/v2/group_memberships": ["get"],
    "/api/v2/attachments/{attachment_id}": ["get"],
    "/api/v2/tickets": ["post"],
    "/api/v2/tickets/show_many": ["get"],
}

# Same operations on both Jira flavours; the prefix and the search route differ.
_JIRA_COMMON: dict[str, list[str]] = {
    "issue": ["post"],
    "issue/{issueIdOrKey}": ["get"],
    "issue/createmeta/{projectIdOrKey}/issuetypes": ["get"],
    "issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}": ["get"],
    "issue/{issueIdOrKey}/attachments": ["post"],
    "issue/{issueIdOrKey}/remotelink": ["get", "post"],
    "issue/{issueIdOrKey}/comment": ["get", "post"],
    "myself": ["get"],
    "serverInfo": ["get"],
    "user/search": ["get"],
    "issue/{issueIdOrKey}/properties/{propertyKey}": ["get", "put"],
    "project/{projectIdOrKey}": ["get"],
}
JIRA_CLOUD_OPS = {f"/rest/api/3/{p}": m for p, m in {**_JIRA_COMMON, "search/jql": ["get", "post"]}.items()}
JIRA_DC_OPS = {f"/api/2/{p}": m for p, m in {**_JIRA_COMMON, "search": ["get", "post"]}.items()}

SOURCES = {
    "zendesk": {
        "file": "openapi/zendesk-support-oas-2.0.0.yaml",
        "source": "Zendesk Support API OAS 2.0.0 (developer.zendesk.com/zendesk/oas.yaml), "
        "via botbrains-io/python-zendesk",
        "licence": "Zendesk; none stated",
    },
    "jira-cloud": {
        "file": "openapi/jira-cloud-platform-rest-v3.swagger-v3.v3.json",
        "source": "Atlassian Jira Cloud platform REST API v3 (dac-static swagger-v3.v3.json), "
        "via jarekbird/jira-api-mcp-wrapper",
        "licence": "Apache-2.0 (the spec's own info.license)",
    },
    "jira-dc": {
        "file": "openapi/jira-software-dc-10.3-openapi.json",
        "source": "Atlassian Jira Software Data Center 10.3 REST API, via zackbunch/jira-dc-mock-server",
        "licence": "Atlassian; none stated",
    },
}


class _ZendeskLoader(yaml.SafeLoader):
    """The Zendesk YAML holds a bare `=` scalar, which PyYAML tags as tag:yaml.org,2002:value."""


_ZendeskLoader.add_constructor(
    "tag:yaml.org,2002:value",
    lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def subset(spec: dict[str, Any], ops: dict[str, list[str]]) -> tuple[dict[str, Any], list[str]]:
    """Return the subset spec and the list of $refs that point nowhere."""
    paths: dict[str, Any] = {}
    for path, methods in ops.items():
        item = spec["paths"][path]
        kept = {k: v for k, v in item.items() if k not in {"get", "put", "post", "delete", "patch"}}
        for method in methods:
            kept[method] = item[method]
        paths[path] = copy.deepcopy(kept)
    components: dict[str, dict[str, Any]] = {
        "securitySchemes": copy.deepcopy(spec["components"].get("securitySchemes", {}))
    }
    dangling: list[str] = []
    todo = list(_refs(paths))
    seen: set[str] = set()
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        try:
            target = _resolve(spec, ref)
        except KeyError:
            dangling.append(ref)
            continue
        _, _, kind, name = ref.split("/", 3)
        components.setdefault(kind, {})[name] = copy.deepcopy(target)
        todo.extend(_refs(target))
    out = {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": spec.get("servers", []),
        "paths": paths,
        "components": {k: dict(sorted(v.items())) for k, v in components.items()},
    }
    if "security" in spec:
        out["security"] = spec["security"]
    return out, sorted(dangling)


def _walk_schemas(node: Any, fn: Callable[[dict[str, Any]], list[str]]) -> list[str]:
    done: list[str] = []
    if isinstance(node, dict):
        done.extend(fn(node))
        for value in node.values():
            done.extend(_walk_schemas(value, fn))
    elif isinstance(node, list):
        for value in node:
            done.extend(_walk_schemas(value, fn))
    return done


def patch_jira_dc(spec: dict[str, Any]) -> list[str]:
    """Repair the DC spec's defects that would stop request validation in the subset."""
    patches: list[str] = []

    def drop_null_examples(node: dict[str, Any]) -> list[str]:
        # The DC generator writes `"example": null` into many schemas; 3.0 has no null
        # literal for examples and some tools reject it. Harmless to drop.
        if "example" in node and node["example"] is None:
            del node["example"]
            return ["x"]
        return []

    if _walk_schemas(spec, drop_null_examples):
        patches.append('removed every `"example": null` (not a valid OpenAPI 3.0 example)')

    schemas = spec["components"]["schemas"]
    # Each entry: where, what the spec says, why it blocks real requests.
    fields = schemas["IssueUpdateBean"]["properties"]["fields"]
    fields["additionalProperties"] = {}
    patches.append(
        "IssueUpdateBean.fields.additionalProperties: {type: object} -> {} "
        "(real field values are strings, arrays and objects)"
    )
    schemas["FieldOperation"]["properties"]["value"] = {}
    patches.append("FieldOperation.value: {type: object} -> {} (operations take strings too)")
    schemas["EntityPropertyBean"]["properties"]["value"] = {}
    patches.append("EntityPropertyBean.value: {type: string} -> {} (a property value is any JSON value)")
    put = spec["paths"]["/api/2/issue/{issueIdOrKey}/properties/{propertyKey}"]["put"]
    put["requestBody"]["content"]["application/json"]["schema"] = {}
    put["requestBody"]["required"] = True
    patches.append(
        "PUT /api/2/issue/{issueIdOrKey}/properties/{propertyKey} body: {type: string, format: json} -> {} "
        "(the server stores any JSON value); marked required"
    )
    schemas["IssueBean"]["properties"]["fields"]["additionalProperties"] = {}
    patches.append(
        "IssueBean.fields.additionalProperties: {type: object} -> {} (field values are strings, numbers, arrays "
        "and null as well: summary, updated, labels; seen in every search and get-issue answer)"
    )
    return patches


def patch_zendesk(spec: dict[str, Any]) -> list[str]:
    """Repair the Zendesk spec where it contradicts the live API on the operations we use."""
    patches: list[str] = []
    upload = spec["paths"]["/api/v2/uploads"]["post"]
    # The spec describes the required `filename` query parameter and the raw file body only
    # in prose; without them every real upload would look invalid.
    upload["parameters"] = [
        {
            "name": "filename",
            "in": "query",
            "required": True,
            "description": "Name given to the uploaded file",
            "schema": {"type": "string", "minLength": 1},
        },
        {"name": "token", "in": "query", "required": False, "schema": {"type": "string"}},
    ]
    upload["requestBody"] = {
        "required": True,
        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
    }
    patches.append(
        "POST /api/v2/uploads: added query parameters filename (required) and token, and a raw */* request "
        "body (documented only in the operation's description)"
    )
    # custom_fields on a ticket write are [{id, value}] pairs; the spec points at the ticket
    # FIELD definition schema (which requires key/type/title), so real updates would fail.
    pair = {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "integer"}, "value": {"nullable": True}},
    }
    schemas = spec["components"]["schemas"]
    schemas["TicketUpdateInput"]["properties"]["custom_fields"]["items"] = pair
    patches.append(
        "TicketUpdateInput.custom_fields.items: CustomFieldObject (a field definition) -> {id, value} pair"
    )
    # ListGroupMemberships declares the path parameters user_id and group_id, which exist only on
    # its documented alternative paths (/api/v2/users/{user_id}/group_memberships and
    # /api/v2/groups/{group_id}/memberships). The sidebar's sign-in reads one agent's groups.
    listing = spec["paths"].pop("/api/v2/group_memberships")["get"]
    by_user = {**listing, "operationId": "ListUserGroupMemberships",
               "parameters": [{"$ref": "#/components/parameters/UserId"}]}
    spec["paths"]["/api/v2/users/{user_id}/group_memberships"] = {"get": by_user}
    patches.append(
        "GET /api/v2/group_memberships (whose user_id/group_id parameters are path parameters of its "
        "documented alternative paths) -> GET /api/v2/users/{user_id}/group_memberships"
    )
    return patches


def build(shared: Path) -> None:
    ref_dir = shared / "reference"
    plans: list[tuple[str, dict[str, list[str]], Callable[[dict[str, Any]], list[str]] | None]] = [
        ("zendesk", ZENDESK_OPS, patch_zendesk),
        ("jira-cloud", JIRA_CLOUD_OPS, None),
        ("jira-dc", JIRA_DC_OPS, patch_jira_dc),
    ]
    for name, ops, patcher in plans:
        meta = SOURCES[name]
        path = ref_dir / meta["file"]
        text = path.read_text(encoding="utf-8")
        spec = yaml.load(text, Loader=_ZendeskLoader) if path.suffix == ".yaml" else json.loads(text)
        sub, dangling = subset(spec, ops)
        patches = patcher(sub) if patcher else []
        if dangling:
            # A $ref to a schema the spec does not define: replace it by an open schema so
            # validation does not crash, and say so.
            for ref in dangling:
                _, _, kind, nm = ref.split("/", 3)
                sub["components"].setdefault(kind, {})[nm] = {}
                patches.append(f"dangling $ref {ref} defined as an empty (open) schema")
        sub = {
            "x-provenance": {
                "source": meta["source"],
                "file": f"shared/reference/{meta['file']}",
                "licence": meta["licence"],
                "subset": "only the operations the sandbox emulates, plus every component they reference",
                "generated_by": "tools/extract_spec_subset.py",
                "patches": patches,
            },
            **sub,
        }
        OUT.mkdir(parents=True, exist_ok=True)
        target = OUT / f"{name}.json"
        target.write_text(json.dumps(sub, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(
            f"{target.relative_to(REPO)}: {len(sub['paths'])} paths, "
            f"{sum(len(v) for v in sub['components'].values())} components, {len(patches)} patches"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    build(parser.parse_args().shared)


if __name__ == "__main__":
    main()
