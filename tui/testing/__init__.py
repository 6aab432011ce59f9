"""Scripted models and agents for tests and the bench (as the SDK's ``agents.testing``):
exact delta sequences without a network or a model."""
