"""The I/O shell around the engine: load a job, let the engine decide, store it in one guarded
step, start over on a conflict.

``jobs`` creates, steps, commits, cancels and retries jobs (``JobRunner``); ``handlers`` runs
a state's handler; ``results`` applies what workers report (incl. parallel branches);
``leases`` claims, releases and expires leases; ``timers`` fires deadlines; ``progress``
records progress reports; ``human_steps`` acts on waiting human steps; ``mirror`` keeps this
process's copy of the blueprints registered at run time in step with Redis.
"""
