"""Version of the exalsius-jupyter package."""

__version__ = "0.1.0"
