"""Mechanisms every plugin shares: tasks, options, staging, hashing."""
