"""The server fixtures live in tests/conftest.py: the contract suite (tests/contract) uses them too."""
