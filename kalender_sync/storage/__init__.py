"""Where state lives between runs: the status and invitation databases, feed tokens, the
team files, atomic writes and credentials. No planning rules here."""
