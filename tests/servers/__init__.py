"""Real servers for the tests: PostgreSQL, Redis and Node.js, installed when missing.

Each server is a throwaway instance in a temp dir, listening on 127.0.0.1 only, started
once per test session by the fixtures in ``tests.servers.fixtures``.
"""
