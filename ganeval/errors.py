"""The one exception type for bad input; the CLI turns it into one line on stderr and exit code 2."""


class GanevalInputError(ValueError):
    """Bad input (file, folder, array, argument): the message names what is wrong and where."""


class SharedInputError(GanevalInputError):
    """Bad input one process of a torchrun group met, raised on every process of it (`stop_together`): the message
    names the rank that met it, and only rank 0 reports it."""
