"""Server-rendered account pages: login and two-factor, profile, tokens, user management."""
