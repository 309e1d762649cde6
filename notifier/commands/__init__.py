"""Subcommands of `notifier`: one module each, exposing `register(subparsers)`.

`register` adds a parser and sets `func=handler`; the handler takes the parsed
args and returns the exit code.
"""
