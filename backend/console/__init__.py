"""The staff console (/console/): the directorates' agents triage in the browser, French and
server-rendered on the fronts' shared layout, through the triage services (never around them)."""
