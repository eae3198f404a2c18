"""Where blueprints come from: turning what a deployment is given into ``Blueprint`` objects.

``specs`` loads what ``--blueprints`` names (Python modules, YAML blueprint files, seed-003
workflow files, directories of them); ``submitted`` reads a blueprint sent over HTTP (a YAML
document or a workflow) and builds it again from what was stored.

Both need the blueprint package (the DSL and the YAML loader) and the workflows package (whose
workflows compile into blueprints, and which itself builds on the blueprint package). Kept in
either of the two, they made the two import each other; here, above both in the same layer,
the imports run one way: intake → workflows → blueprint.
"""
