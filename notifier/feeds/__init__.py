"""Reading status feeds: fetch (conditional GET, caps), detect, and `formats/` with
one parser module per format family, each giving normalized `FeedDocument`s.

May import `store`, `config` and the models.
"""
