"""`python -m layerlab <stage> ...`: the entry point Snakemake rules call."""

from layerlab.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
