"""User-facing applications: the `ferkit` command line and the REST service."""
