"""The response cache: answers already built, served again from bytes behind the legal checks.

``answers`` holds the bytes with their tags and expiry; ``documents`` decides which
documents may be kept; ``gate`` keys a request by its bytes and its scope, re-runs the case
check on a hit and keeps what a miss built; ``invalidation`` drops answers when a control,
restriction or invalidation touches their debtors or cases (on every instance, through the
event bus and the shared fact cache); ``record`` writes a hit's audit record.
"""
