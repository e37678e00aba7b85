"""Kept for old scripts: the same as `manage.py seed_demo`."""

from portal.management.commands.seed_demo import Command as SeedDemo


class Command(SeedDemo):
    help = "Alias of seed_demo. " + SeedDemo.help
