"""The vehicle side of Uptane: full and partial verification, fetching, A/B slots, manifests.

``VehicleClient`` (primary.py) is the entry point; the verification rules are in
``trusted_set.py`` and ``matching.py`` and do no I/O; errors are in ``errors.py``.
"""
