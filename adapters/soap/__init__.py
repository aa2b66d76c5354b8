"""Shared SOAP machinery: packaged WSDL/XSD files, a secure zeep client bound to
the configured endpoint, payload schemas, and the ШЭП SyncChannel envelope."""
