import sys

from nextmodel_cachesafety.cli import main

sys.exit(main())
