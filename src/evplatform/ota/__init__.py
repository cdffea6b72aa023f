"""Secure OTA delivery: Uptane on TUF metadata (python-tuf), server side and vehicle client.

Server side: ``keys`` (ed25519 key files and signers), ``image_repository`` (the Image
repository), ``director`` (per-vehicle Director metadata), ``manifests`` (vehicle version
manifests), ``service`` (``OtaService``, what the HTTP API calls). Artefacts: ``releases``,
``storage``, ``delta``, ``records``. Vehicle side: ``client``.

This package depends only on ``evplatform.errors`` and small shared modules (an import-linter
contract), so the security core stays small enough to audit. Modules are imported explicitly;
nothing is re-exported here, so importing one part never loads the others.
"""
