"""Claims registry; importing this package registers the built-in claims."""

from . import asymptotic, bounds, foundation, lemmas, network, proofs, theorem1  # noqa: F401  (registers claims)
from .instances import Instance, default_instances
from .registry import Claim, Finding, Settings, Verdict, claims, get, register, unregister

__all__ = ["Claim", "Finding", "Instance", "Settings", "Verdict", "claims", "default_instances", "get",
           "register", "unregister"]
