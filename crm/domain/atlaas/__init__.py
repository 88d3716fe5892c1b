"""The Atlaas: the searchable catalogue of the members' local digital actions."""
