"""The keyword-and-classifier stage: relevance, content tags, issuer level and region, type and status.

Pure functions and models, used by a pipeline stage and by `policywatch classify`.
"""
