"""A way in: people asking for an account, and companies registering as providers."""
