"""The one exception type for bad input; the CLI turns it into one line on stderr and exit code 2."""


class GanevalInputError(ValueError):
    """Bad input (file, folder, array, argument): the message names what is wrong and where."""
