"""Projects: named folders of videos inside one workspace account."""
from __future__ import annotations

from typing import Any

from chalicelib.domain.clock import now_iso
from chalicelib.domain.filenames import clean_title
from chalicelib.domain.ids import new_id
from chalicelib.domain.slug import slugify
from chalicelib.errors import NotFound
from chalicelib.models import CreateProject, ProjectView
from chalicelib.services import wiring


def require_same_account(caller: str, requested: str) -> None:
    # Another workspace answers exactly as a missing one, so ids cannot be probed.
    if caller != requested:
        raise NotFound(f"account {requested} not found")


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
