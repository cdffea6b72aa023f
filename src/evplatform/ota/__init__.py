"""Secure OTA delivery: Uptane on TUF metadata (python-tuf), server side and vehicle client.

Server side: ``keys`` (ed25519 key files and signers), ``image_repository`` (the Image
repository), ``director`` (per-vehicle Director metadata), ``manifests`` (vehicle version
manifests), ``service`` (``OtaService``, what the HTTP API calls), ``publishing`` (a validated
release into the image store, deltas, release counters and Image targets), ``resigning`` (the
routine re-signing of every role). Artefacts: ``releases`` (the release value and the catalogue
of published ones), ``storage``, ``delta``, ``records``. Vehicle side: ``client``.

Within ``evplatform`` this package imports only ``evplatform.errors`` and ``evplatform.clock``
(third-party: python-tuf, securesystemslib, cryptography, PyNaCl, the delta codecs), so the
security core stays small enough to audit. pyproject's import-linter contract forbids it the
domains (workspace, variability, platform, markets, vehicle, fleet, store, insights) and the
front ends: reading a release manifest against the workspace is ``fleet.release_manifest``,
registering releases in the fleet database is ``fleet.release_publishing``. Modules are imported
explicitly; nothing is re-exported here, so importing one part never loads the others.
"""
