"""`python -m aksnet.bridge`: read one request from stdin, answer with JSON lines on stdout."""

import sys

from aksnet.bridge import main

sys.exit(main())
