"""Discovery: from the status page a person knows to the feed notifier polls.

`find.discover(page, fetcher)` fingerprints the page's platform, tries its endpoints,
the page's `<link rel="alternate">` feeds and the usual paths, through the same bounded
`Fetcher` polling uses; `components` lists a feed's component names. May import
`notifier.feeds` (its parsers) and the layers below.
"""
