"""The partner API: API clients and keys, pushing and pulling contacts, the change feed."""
