"""Database models and the session factory shared by the API, the worker and the CLI."""
