"""petition_mediation service."""
