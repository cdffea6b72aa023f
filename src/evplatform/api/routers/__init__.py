"""One router per domain; ``api.app`` includes them all."""
