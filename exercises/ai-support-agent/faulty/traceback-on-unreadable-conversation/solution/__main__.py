import sys

from solution.cli import main

sys.exit(main())
