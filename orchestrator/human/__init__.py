"""Human work: the inbox indexes, decisions and escalations around the engine's human steps."""
