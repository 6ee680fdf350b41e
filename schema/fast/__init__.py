"""The execution shortcuts: strawberry's and graphql-core's hot paths, taken faster.

They lean on those libraries' internals (see the ranges in pyproject.toml) and are used only
while ``SchemaOptions.shortcuts`` is on (``LIANDONG_EXECUTION_SHORTCUTS``, on by default).
"""
