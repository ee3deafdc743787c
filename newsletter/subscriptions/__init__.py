"""Readers: lists, subscribers, consent evidence, the suppression list."""
