"""The one spider policywatch needs: it reads any registered site through its CMS family."""
