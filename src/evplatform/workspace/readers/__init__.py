"""One reader per workspace file type; ``evplatform.workspace.loader`` runs them in order.

Each reader turns one file (already parsed by :mod:`evplatform.workspace.sources`, so every
value knows its line) into domain values of :mod:`evplatform.workspace.model`, and raises a
``WorkspaceError`` naming file:line for anything wrong in that file.
"""
