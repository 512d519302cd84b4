"""`python -m mlcode.steps STEP MODEL`: the same as `mlcode step STEP MODEL`."""

from mlcode.steps import main_for

if __name__ == "__main__":
    main_for(None)
