"""What can go wrong on the vehicle side of an update, one class per kind of attack or failure.

Uptane 2.1.0 5.4.4.2 (last paragraph): "If a check for a specific type of security attack fails
(i.e., rollback, freeze, arbitrary software, etc.), the ECU SHOULD return an error code that
indicates the type of attack." Each class below is that code; the message says which role or
ECU and what was expected. The tree::

    OtaError                          (evplatform.errors)
    └── ClientError
        ├── VerificationError         (metadata or image refused; nothing is installed)
        │   ├── MalformedMetadataError    not JSON / not TUF metadata
        │   ├── RoleTypeMismatchError     ``_type`` is not the role that was asked for
        │   ├── ThresholdError            fewer valid signatures than the threshold
        │   │   └── BadSignatureError     an authorised key's signature does not verify
        │   ├── NonUniqueSignaturesError  one key signs twice (would count twice otherwise)
        │   ├── IllegalThresholdError     a role with threshold < 1
        │   ├── BadKeyIdError             a key id that is not the hash of its key, or unknown
        │   ├── RootRotationError         ``N+1.root.json`` does not say version N+1
        │   ├── RollbackError             a version or release counter lower than trusted
        │   ├── ExpiredMetadataError      past ``expires`` (the freeze-attack check)
        │   ├── MixAndMatchError          version/hash/length differ from snapshot/timestamp
        │   ├── EndlessDataError          more bytes than the limit or the stated length
        │   ├── DirectorDelegationError   Director targets metadata delegates
        │   ├── DuplicateEcuTargetError   two Director targets for one ECU
        │   ├── EcuMismatchError          a Director target for an ECU this vehicle lacks
        │   ├── HardwareMismatchError     hardware id differs from the ECU's
        │   ├── TargetMismatchError       Director and Image repository disagree / no image
        │   └── ImageVerificationError    downloaded image differs from its metadata
        ├── ClockSkewError            the clock went back behind a time already seen
        ├── DownloadError             the transport failed (foreign errors end up here)
        │   └── NotFoundError         the file does not exist (ends the root chain walk)
        └── InstallError              the A/B slots could not take the image
"""

from __future__ import annotations

from evplatform.errors import OtaError


class ClientError(OtaError):
    """Base of every vehicle-side OTA error."""


class VerificationError(ClientError):
    """Metadata or an image failed a check: the update is aborted, nothing is installed."""


class MalformedMetadataError(VerificationError):
    """The bytes are not JSON, or not TUF metadata of the expected shape."""


class RoleTypeMismatchError(VerificationError):
    """The metadata's ``_type`` is not the role that was requested (TUF 5.3.x, "type")."""


class ThresholdError(VerificationError):
    """Fewer valid signatures from authorised keys than the role's threshold (arbitrary software)."""


class BadSignatureError(ThresholdError):
    """The threshold is missed because an authorised key's signature does not verify."""


class NonUniqueSignaturesError(VerificationError):
    """Two signatures by the same key id: a threshold counts unique keys (Uptane 5.4.4.3 2.3)."""


class IllegalThresholdError(VerificationError):
    """A role whose threshold is below one would accept unsigned metadata."""


class BadKeyIdError(VerificationError):
    """A key id is not the sha256 of the key's canonical form, or a role names a key not listed."""


class RootRotationError(VerificationError):
    """``N+1.root.json`` states a version other than N+1 (Uptane 5.4.4.3 2.4)."""


class RollbackError(VerificationError):
    """A version number or an image release counter is lower than the trusted one."""


class ExpiredMetadataError(VerificationError):
    """Metadata is past its ``expires``: the "check for a freeze attack" of every role."""


class MixAndMatchError(VerificationError):
    """A metadata file's version, hashes or length differ from what snapshot/timestamp list."""


class EndlessDataError(VerificationError):
    """More bytes than the limit for that file or the length its metadata states."""


class DirectorDelegationError(VerificationError):
    """Director targets metadata has delegations (Uptane 5.4.4.6 step 6 forbids them)."""


class DuplicateEcuTargetError(VerificationError):
    """Director targets metadata names one ECU twice (Uptane 5.4.4.6 step 7)."""


class EcuMismatchError(VerificationError):
    """A Director target for an ECU serial this vehicle does not have (Uptane 5.4.4.6 step 8)."""


class VehicleMismatchError(VerificationError):
    """Director targets metadata names no vehicle or another vehicle: a replay of another vehicle's
    metadata (Uptane 2.x 5.2.3.1: Director targets SHALL include a vehicle identifier)."""


class HardwareMismatchError(VerificationError):
    """A target's hardware id is not the ECU's (Uptane 5.4.3.4 step 3)."""


class TargetMismatchError(VerificationError):
    """Director and Image repository metadata disagree about an image, or the image is unknown."""


class ImageVerificationError(VerificationError):
    """A downloaded (or delta-reconstructed) image's length or hashes differ from its metadata."""


class ClockSkewError(ClientError):
    """The clock reads earlier than a time this vehicle already trusted (clock turned back)."""


class DownloadError(ClientError):
    """The transport failed; anything foreign a fetcher raises is re-raised as this."""


class SlowRetrievalError(DownloadError):
    """The server sends slower than the minimum rate over the window (Uptane 5.4: slow retrieval).

    Not retried: an attacker who drips bytes would simply drip them again.
    """


class NotFoundError(DownloadError):
    """The requested file does not exist on the server (404 or no such file)."""


class InstallError(ClientError):
    """The image could not be written to or booted from the inactive slot."""
