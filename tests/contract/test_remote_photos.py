"""Photos taken on one phone show on another phone of the same job: the second phone
downloads thumbnails for the job's photos (kept on the device) and the full photo when it
is opened; a phone that may not see the job gets nothing."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

from PIL import Image

from mobile.services.engine_backend import EngineBackend
from mobile.state.job_detail import JobDetailState
from tests.contract.conftest import LiveServer
from tests.factories import PASSWORD
from tests.unit.mobile.test_support import jpeg_bytes


def phone(live: LiveServer, folder: Path, username: str) -> EngineBackend:
    backend = EngineBackend(folder)
    backend.sign_in(live.url, username, PASSWORD)
    return backend


def test_another_phone_gets_thumbnails_and_the_full_photo(live, new_job, tmp_path):
    job = new_job("crew1")
    a, b = phone(live, tmp_path / "a", "crew1"), phone(live, tmp_path / "b", "crew1")
    c = phone(live, tmp_path / "c", "crew2")  # another station
    try:
        a.sync_once()
        a.act(job["id"], "accept", {})
        sha = a.add_photo(job["id"], jpeg_bytes(size=(2400, 1600)), "meter box")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (a.status().waiting or a.status().photos_waiting):
            a.sync_once()
        b.sync_once()
        state = JobDetailState(b, job["id"])
        state.reload()
        assert state.missing_thumbs() == [sha]  # not taken on this phone
        assert asyncio.run(state.load_remote_thumbs()) == 1
        with Image.open(io.BytesIO(state.thumbs[sha])) as img:
            assert max(img.size) <= 320 and img.format == "JPEG"
        assert (tmp_path / "b" / "photos" / "remote" / f"{sha}.thumb.jpg").exists()
        asyncio.run(state.open_photo(sha))
        assert state.full_photo is not None and state.photo_status == ""
        with Image.open(io.BytesIO(state.full_photo)) as img:
            assert max(img.size) > 320
        state.close_photo()
        assert state.full_photo is None
        # someone the job is not shown to gets neither
        assert c.remote_photo(sha, thumb=True) is None
        assert c.photo_bytes(sha) is None
    finally:
        for x in (a, b, c):
            x.close()
