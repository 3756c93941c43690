"""modsim: a faithful local simulator of Chinese content-moderation HTTP APIs."""

__version__ = "0.1.0"
