"""Write use cases: one function per thing a user does.

Each takes the request's session and the acting membership, validates raw
input through ``ledger.domain``, writes rows and an activity record, and
flushes. None of them commits: the caller commits once, so a use case lands
whole or not at all.
"""
