"""One module per `cutover` command, each exposing `command`; discovered by `cutover_cli.app`."""
