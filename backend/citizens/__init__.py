"""The citizens' site: report from any browser (/signaler) and follow what happens (/suivi)."""
