"""variability domain."""
