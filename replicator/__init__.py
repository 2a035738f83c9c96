"""Replication: the pure transform, version scheme, guarded v3 writer, quarantine and the Lambda handler."""
