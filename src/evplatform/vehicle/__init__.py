"""vehicle domain."""
