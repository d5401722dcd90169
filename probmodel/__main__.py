"""``python -m probmodel`` runs the command line."""

from probmodel.cli import entry

entry()
