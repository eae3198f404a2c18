"""Persistence in Redis (or the embedded fakeredis store): keys, Lua scripts, the store."""
