"""``python -m mobile [--api-url URL] [--host H] [--port N] [--data-dir DIR]``: serve the
GridOne app in web mode (installable PWA)."""

from __future__ import annotations

import argparse
import logging

from mobile.main import run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mobile", description=__doc__)
    parser.add_argument("--api-url", default="", help="GridOne server, pre-filled at sign-in")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8550)
    parser.add_argument("--data-dir", default=None, help="where devices keep their data")
    parser.add_argument("--open", action="store_true", help="open a browser")
    parser.add_argument("--map-tiles", default="",
                        help="XYZ tile template for the in-app job map, e.g. "
                        "https://tiles.example/{z}/{x}/{y}.png")
    parser.add_argument("--fixed-server", action="store_true",
                        help="served by its own server: use --api-url, show no URL field")
    parser.add_argument("--offline-retry-s", type=float, default=None,
                        help="the longest backoff between sync attempts while they fail "
                             "(default 300 s; the engine backs off with jitter up to it)")
    parser.add_argument("--online-interval-s", type=float, default=20.0,
                        help="seconds between polls when the server does not hold long "
                             "polls")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run(api_url=args.api_url, host=args.host, port=args.port, data_dir=args.data_dir,
        open_browser=args.open, offline_retry_s=args.offline_retry_s,
        online_interval_s=args.online_interval_s, fixed_server=args.fixed_server,
        map_tiles=args.map_tiles)


if __name__ == "__main__":
    main()
