"""`python -m nirdag` runs the command line."""

from nirdag.cli import main

main()
