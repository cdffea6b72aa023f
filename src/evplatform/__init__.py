"""evplatform: one reusable EV platform, many models, many markets, kept alive by OTA updates.

The public namespace is small on purpose; domains live in their own subpackages
(``evplatform.workspace``, ``evplatform.variability``, …).
"""

from evplatform.errors import EvplatformError

__all__ = ["EvplatformError", "__version__"]
# The one place the version is written: pyproject.toml reads it (dynamic version), and
# `evplatform --version` and the API's OpenAPI document show it.
__version__ = "0.1.0"
