import sys

from perflint.cli.main import main

sys.exit(main())
