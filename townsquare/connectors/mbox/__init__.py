"""Mailing-list archives in mbox format (Mailman/pipermail included), threaded by headers."""
