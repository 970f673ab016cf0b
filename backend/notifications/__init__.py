"""Who hears of what: reporters by e-mail (and their opt-out), units by webhook or digest."""
