"""``python -m feedback_nlp``: the ``feedback-nlp`` command."""

import sys

from .cli import main

sys.exit(main())
