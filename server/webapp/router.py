"""``GET /app/…``: the static device app, read from ``settings.webapp_dir`` at each request
(a new build is served as soon as it is in place)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from server.deps import SettingsDep
from server.errors import error_response
from server.webapp.files import BUILD_COMMAND, PREFIX, content_type, headers, resolve
from shared.errors import ErrorCode

router = APIRouter(include_in_schema=False)


@router.get("/app")
def app_root() -> Response:
    return RedirectResponse(PREFIX, status_code=308)


@router.api_route("/app/{rel:path}", methods=["GET", "HEAD"])
def app_file(rel: str, request: Request, settings: SettingsDep) -> Response:
    root = settings.webapp_dir
    if not (root / "index.html").is_file():
        return error_response(request, ErrorCode.WEBAPP_NOT_BUILT,
                              {"command": BUILD_COMMAND})
    path = resolve(root, rel)
    if path is None:
        return error_response(request, ErrorCode.NOT_FOUND)
    return FileResponse(path, media_type=content_type(path), headers=headers(path))
