"""ota domain."""
