"""The HTTP API (`python -m archivist serve`): the CLI's contracts as JSON over HTTP, for scripts,
notebooks and a team sharing one archive. A front end like the CLI and the page: the core never
imports it."""
