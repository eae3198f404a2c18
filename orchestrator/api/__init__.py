"""HTTP surface: /_public, /api (clients) and /_worker (workers)."""
