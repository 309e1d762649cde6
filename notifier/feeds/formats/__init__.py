"""One module per feed format family; each exposes `PARSERS: dict[str, Parser]`.

May import the helpers of `notifier.feeds` and the models.
"""
