"""Test support shared by tests/ and bench/: real CalDAV servers, a loopback proxy, the CLI runner.

Nothing here imports pytest: failures are plain exceptions, and the pytest layer (the
conftest files) turns them into skips and failures.
"""
