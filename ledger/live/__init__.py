"""Live views: every write becomes a numbered event that open pages receive over Server-Sent Events.

The database is the source of truth: an event is an ``activity`` row with a
per-alliance ``seq``. Publishing only *wakes* streams; a woken stream reads
``seq > last`` from the database, so a lost wake-up costs latency, never an
event, and a reconnecting page resumes exactly where it stopped.
"""
