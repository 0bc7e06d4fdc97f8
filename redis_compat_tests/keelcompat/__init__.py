"""Helpers of the Keel/Redis compatibility suite (see redis_compat_tests/README.md)."""
