"""Web pages behind a login: trainer now, koordinator dashboard later."""
