"""One module per `ferkit` subcommand, each exposing HELP, add_arguments(parser) and run(args) -> int."""
