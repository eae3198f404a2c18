"""Hands tasks to long-polling workers without a Redis connection per waiting worker."""
