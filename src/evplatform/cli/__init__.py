"""The command line: thin Typer commands that parse, call a domain and render."""
