"""markets domain."""
