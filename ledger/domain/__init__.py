"""The rules of an alliance's books, in plain Python.

Nothing here knows about Flask or SQLAlchemy: persistence and the web call
into these modules, never the other way, so every rule can be tested (and
property-tested) without a database.
"""
