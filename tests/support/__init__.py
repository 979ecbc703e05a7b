"""Test support: servers, browsers, waiting and fixtures shared by the test modules."""
