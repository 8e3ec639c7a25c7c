"""Run the command-line tool: ``python -m playground …``."""
from playground.cli import main

raise SystemExit(main())
