"""E-mail: Swedish Jinja2 templates and their pure rendering. Sending happens after commit, from
the outbox."""
