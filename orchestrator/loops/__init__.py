"""Periodic duties. Safe with several processes: every claim goes through a script."""
