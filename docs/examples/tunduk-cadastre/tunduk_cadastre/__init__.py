"""A land cadastre behind an X-Road security server, as a regbus adapter."""
