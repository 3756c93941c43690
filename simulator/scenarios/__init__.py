"""The vendor-neutral content truth: what is *in* an image or a text, independent of any vendor."""

from simulator.scenarios.model import Face, Identity, Scenario

__all__ = ["Face", "Identity", "Scenario"]
