"""How the compiled executor gets a planned field's value: the planner decides, the code generator
and the runner act on it. ATTR reads an attribute, SYNC calls a plain resolver, BATCH resolves a
whole level in one call, TYPENAME writes `__typename`, ROOT runs a root field's resolver."""

ATTR, SYNC, BATCH, TYPENAME, ROOT = range(5)
