"""Command-line commands of this area; registered by directory.commands."""

COMMANDS: list = []
