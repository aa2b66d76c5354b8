"""A land cadastre behind an X-Road security server, as a regbus adapter, with its mock
registry and the Compose profiles that use it."""

from importlib.resources import files

# The package's Compose profiles (entry point regbus.profiles): a TOML file of
# [profiles.NAME] tables, the form of regbus's own bus/profiles.toml.
PROFILES = files(__name__) / "profiles.toml"
