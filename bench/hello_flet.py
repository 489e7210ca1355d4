"""The bare Flet hello-world app the start-up comparison (bench.startup) holds our app against: a
title, a text and one button, nothing else. Started as ours is: `python -m bench.hello_flet` opens
a window, `python -m bench.hello_flet --web --port N` serves it to browsers (offline, on loopback).
"""

from __future__ import annotations

import argparse

import flet as ft

TITLE = "Flet hello world"
BUTTON = "Hello"


def main(page: ft.Page) -> None:
    page.title = TITLE
    page.add(ft.Text("Hello, world!"), ft.Button(BUTTON))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.hello_flet", description=__doc__.split("\n")[0])
    parser.add_argument("--web", action="store_true", help="serve the app to browsers")
    parser.add_argument("--port", type=int, default=8550, help="with --web: port to serve on")
    args = parser.parse_args()
    if args.web:
        ft.run(main, view=ft.AppView.WEB_BROWSER, host="127.0.0.1", port=args.port, no_cdn=True)
    else:
        ft.run(main)
