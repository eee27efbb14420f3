"""Test support: the real local stack and the service processes the tests run against."""
