"""Local PHI detection for text that leaves the helpdesk for the issue tracker.

    >>> from escalink.phi import scan, redact
    >>> text = "Call Rosa at (559) 555-0134"
    >>> redact(text, scan(text, "comment"))
    'Call [NAME] at [PHONE]'

Recognizers live in `escalink.phi.recognizers` (one a module, registered with
`escalink.phi.registry.register`) and are configured by `phi.yaml` (see `escalink.phi.config`).
"""

from escalink.phi.config import PhiConfig, RecognizerConfig, load_config
from escalink.phi.detector import Detector, default_detector, merge, redact, scan
from escalink.phi.model import LABELS, Finding

__all__ = [
    "LABELS",
    "Detector",
    "Finding",
    "PhiConfig",
    "RecognizerConfig",
    "default_detector",
    "load_config",
    "merge",
    "redact",
    "scan",
]
