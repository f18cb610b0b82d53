"""`python -m ganeval …` runs the `ganeval` command."""

from ganeval_cli.ganeval_cli import main

if __name__ == "__main__":
    main()
