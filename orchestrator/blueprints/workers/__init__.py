"""Example workers of the domain blueprints; each is its own process
(``worker run orchestrator.blueprints.workers.<module>:worker``). Their settings come from
the environment and are listed in ``docs/processes.md``.
"""
