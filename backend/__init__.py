"""Signal93 backend: citizen reports, routing, media and triage for the Seine-Saint-Denis apps."""
