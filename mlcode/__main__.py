"""`python -m mlcode` runs the command line."""

from mlcode.cli import main

if __name__ == "__main__":
    main()
