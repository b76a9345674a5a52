"""Rendering and delivering what policywatch found: daily digests and reports."""
