"""Human work: the inbox indexes, views and metrics around the engine's human steps (acting on
a step, deciding or escalating, is shell code: ``orchestrator/shell/human_steps.py``)."""
