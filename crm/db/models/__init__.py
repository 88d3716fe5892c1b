"""Every table, imported here so that Alembic and the metadata see them all."""

from crm.db.models.audit import AuditEntry
from crm.db.models.staff import Staff, StaffInvitation, StaffRole

__all__ = ["AuditEntry", "Staff", "StaffInvitation", "StaffRole"]
