"""Projects: named folders of videos inside one workspace account."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalicelib.adapters.records import project_listing
from chalicelib.domain import cursor as cursors
from chalicelib.domain.clock import now_iso
from chalicelib.domain.filenames import clean_title
from chalicelib.domain.ids import looks_like_id, new_id
from chalicelib.domain.slug import slugify
from chalicelib.errors import BadRequest, NotFound
from chalicelib.models import CreateProject, DeleteProject, ListProjects, ProjectDeleted, ProjectList, ProjectView
from chalicelib.services import wiring


def require_same_account(caller: str, requested: str) -> None:
    # Another workspace answers exactly as a missing one, so ids cannot be probed.
    if caller != requested:
        raise NotFound(f"account {requested} not found")


def owned(caller: str, kind: str, item_id: str, lookup: Callable[[str], dict[str, Any] | None]) -> dict[str, Any]:
    """The record ``lookup`` finds for ``item_id`` when it belongs to ``caller``; otherwise a 404
    naming the ``kind`` (another workspace's record reads as missing, like require_same_account)."""
    item = lookup(item_id) if looks_like_id(item_id) else None
    if not item or item.get("accountId") != caller:
        raise NotFound(f"{kind} {item_id} not found")
    return item


def create_project(caller: str, req: CreateProject) -> ProjectView:
    require_same_account(caller, req.accountId)
    records = wiring.records()
    project_id = new_id("project")
    slug = records.claim_slug(req.accountId, slugify(clean_title(req.name)), project_id)
    project = {
        "id": project_id,
        "name": clean_title(req.name),
        "slug": slug,
        "accountId": req.accountId,
        "createdAt": now_iso(),
    }
    records.put_project(project)
    return ProjectView.model_validate(project)


def own_project(caller: str, account_id: str, project_id: str) -> dict[str, Any]:
    require_same_account(caller, account_id)
    project = wiring.records().get_project(account_id, project_id)
    if not project:
        raise NotFound(f"project {project_id} not found")
    return project


def project_view(project: dict[str, Any]) -> ProjectView:
    return ProjectView.model_validate({name: project.get(name) for name in ProjectView.model_fields})


def list_projects(caller: str, req: ListProjects) -> ProjectList:
    require_same_account(caller, req.accountId)
    after = cursors.decode(req.cursor, project_listing(req.accountId), "PROJECT#")
    items, last = wiring.records().list_projects(req.accountId, req.limit, after)
    return ProjectList(projects=[project_view(p) for p in items], cursor=cursors.encode(last))


def delete_project(caller: str, req: DeleteProject) -> ProjectDeleted:
    """Delete an empty project. Its slug stays claimed: a slug is never handed to another
    project, so a link or bookmark made from it cannot come to name a different one."""
    project = own_project(caller, caller, req.projectId)
    records = wiring.records()
    # Closed to new videos first, then counted: an upload racing the delete either lands before
    # the flag (and is counted, so the delete is refused) or is refused itself (put_video).
    records.start_deleting_project(caller, project["id"], now_iso())
    held = records.count_videos(project["id"])
    if held:
        records.stop_deleting_project(caller, project["id"])
        raise BadRequest(
            f"projectId: project {project['id']} holds {held} video{'s' if held != 1 else ''}; "
            "delete them first (POST /api/dev/delete-video)"
        )
    records.delete_project(caller, project["id"])
    return ProjectDeleted(projectId=project["id"], deleted=True)
