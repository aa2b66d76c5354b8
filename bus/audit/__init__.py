"""The audit log: every call recorded, hash-chained, signed at checkpoints (docs/audit.md).

entry.py     one entry, its canonical encoding, the chain hash
writer.py    AuditLog: group commit off the event loop; calls await their entry
store.py     the tables and the chain logic, shared by the stores
sqlite.py    the default store, a SQLite file
postgres.py  the PostgreSQL store
signing.py   Ed25519 keys and signed checkpoints
verify.py    checking the whole log; lookup.py: who looked a person up
settings.py  the [audit] section; commands.py: regbus audit verify | subject
errors.py    AuditError, AuditUnavailable
"""
